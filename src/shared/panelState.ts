// What the webview stores with vscode.setState so the panel serializer can re-run the inspection after a
// window reload, and the answer strip's answer with it. Shared by the webview and the host; no `vscode` import.

/**
 * How the strip's answer came about: the text's own (given), a file's (given, with the file's URI), or generated
 * (greedy or seeded, so it repeats).
 */
export type PanelAnswerRequest =
  | { readonly given: true; readonly file?: string }
  | { readonly maxTokens: number; readonly temperature: number; readonly seed: number };

export interface InspectorPanelState {
  readonly uri?: string;
  /** Offset and length of the inspected range in the document (UTF-16 code units). */
  readonly offset: number;
  readonly length: number;
  readonly label: string;
  /** The answer the strip showed, asked for again once the inspection is back. */
  readonly answer?: PanelAnswerRequest;
}

function isAnswerRequest(value: unknown): value is PanelAnswerRequest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v.given === true) return v.file === undefined || (typeof v.file === 'string' && v.file.length > 0);
  return (
    Number.isInteger(v.maxTokens) &&
    (v.maxTokens as number) >= 1 &&
    (v.maxTokens as number) <= 4096 &&
    typeof v.temperature === 'number' &&
    v.temperature >= 0 &&
    v.temperature <= 10 &&
    Number.isSafeInteger(v.seed) &&
    (v.seed as number) >= 0
  );
}

export function isInspectorPanelState(value: unknown): value is InspectorPanelState {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.offset === 'number' &&
    typeof v.length === 'number' &&
    typeof v.label === 'string' &&
    (v.uri === undefined || typeof v.uri === 'string') &&
    (v.answer === undefined || isAnswerRequest(v.answer))
  );
}
