// Exports of the current view: in VS Code the host saves files; in the HTML report they download directly.
import type { ExportKind, InspectionResult } from '../../src/shared/protocol';
import { encodeInspectionResult } from '../../src/shared/resultCodec';
import type { HostBridge } from './hostBridge';

export interface ExportSources {
  png(): HTMLCanvasElement | null;
  result(): InspectionResult | null;
  /** The report page's own HTML as loaded (report mode only). */
  reportHtml: string | null;
}

export function exportView(kind: ExportKind, bridge: HostBridge, sources: ExportSources): string {
  if (bridge.kind === 'vscode') {
    if (kind === 'png') {
      const canvas = sources.png();
      if (!canvas) return 'Nothing to export yet.';
      bridge.request({ type: 'export', kind, pngDataUrl: canvas.toDataURL('image/png') });
    } else {
      bridge.request({ type: 'export', kind });
    }
    return `Exporting ${kind.toUpperCase()}…`;
  }
  if (kind === 'png') {
    const canvas = sources.png();
    if (!canvas) return 'Nothing to export yet.';
    download(canvas.toDataURL('image/png'), 'attention.png');
  } else if (kind === 'json') {
    const result = sources.result();
    if (!result) return 'Nothing to export yet.';
    downloadBlob(new Blob([encodeInspectionResult(result)], { type: 'application/json' }), 'attention.json');
  } else {
    if (!sources.reportHtml) return 'Nothing to export yet.';
    downloadBlob(new Blob([sources.reportHtml], { type: 'text/html' }), 'attention.html');
  }
  return `Downloaded ${kind.toUpperCase()}.`;
}

function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  download(url, name);
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function download(href: string, name: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
}
