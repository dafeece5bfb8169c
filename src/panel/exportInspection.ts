// Export from the panel: PNG (data URL from the webview), JSON (the encoded result) or the self-contained
// HTML report, written where the user picks in a save dialog.
import * as vscode from 'vscode';
import { buildReportHtml } from '../report/reportHtml';
import { encodeInspectionResult } from '../shared/resultCodec';
import { firstLine } from '../shared/errorText';
import type { Log } from '../shared/log';
import type { InspectionResult, WebviewToHostMessage } from '../shared/protocol';

type ExportMessage = Extract<WebviewToHostMessage, { type: 'export' }>;

const filters: Record<ExportMessage['kind'], Record<string, string[]>> = {
  png: { 'PNG image': ['png'] },
  json: { 'Inspection JSON': ['json'] },
  html: { 'HTML report': ['html'] },
};

/** Null when the user cancelled the dialog. */
export async function exportInspection(
  context: vscode.ExtensionContext,
  message: ExportMessage,
  result: InspectionResult | null,
  log: Log,
): Promise<{ ok: boolean; message: string } | null> {
  try {
    const bytes = await contentFor(context, message, result);
    const base = (result?.source.label ?? 'attention').replace(/[:/\\]+/g, '-').replace(/\.[^.]*$/, '');
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const defaultName = `${base}.attention.${message.kind}`;
    const target = await vscode.window.showSaveDialog({
      filters: filters[message.kind],
      defaultUri: folder ? vscode.Uri.joinPath(folder, defaultName) : undefined,
      saveLabel: `Export ${message.kind.toUpperCase()}`,
    });
    if (!target) return null;
    await vscode.workspace.fs.writeFile(target, bytes);
    return { ok: true, message: vscode.workspace.asRelativePath(target) };
  } catch (error) {
    const text = firstLine(error);
    log.error(`Export of ${message.kind.toUpperCase()} failed`, error);
    void vscode.window.showErrorMessage(`Prompt Attention: export failed: ${text}`);
    return { ok: false, message: text };
  }
}

async function contentFor(
  context: vscode.ExtensionContext,
  message: ExportMessage,
  result: InspectionResult | null,
): Promise<Uint8Array> {
  if (message.kind === 'png') {
    const match = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(message.pngDataUrl ?? '');
    if (!match) throw new Error('the panel sent no PNG image');
    return Buffer.from(match[1], 'base64');
  }
  if (!result) throw new Error('the inspection has not finished yet');
  if (message.kind === 'json') return Buffer.from(encodeInspectionResult(result), 'utf8');
  const read = async (name: string): Promise<string> =>
    Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(context.extensionUri, 'dist', name))).toString(
      'utf8',
    );
  return Buffer.from(
    buildReportHtml(result, { webviewJs: await read('webview.js'), webviewCss: await read('webview.css') }),
    'utf8',
  );
}
