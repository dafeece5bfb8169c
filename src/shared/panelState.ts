// What the webview stores with vscode.setState so the panel serializer can re-run the inspection after a
// window reload. Shared by the webview and the host; no `vscode` import.

export interface InspectorPanelState {
  readonly uri?: string;
  /** Offset and length of the inspected range in the document (UTF-16 code units). */
  readonly offset: number;
  readonly length: number;
  readonly label: string;
}

export function isInspectorPanelState(value: unknown): value is InspectorPanelState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.offset === 'number' &&
    typeof v.length === 'number' &&
    typeof v.label === 'string' &&
    (v.uri === undefined || typeof v.uri === 'string')
  );
}
