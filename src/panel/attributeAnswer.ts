// The "Prompt Attention: Attribute Answer" command: the selection (or the document) is the prompt, the text
// after a line ---answer--- (or a file the user picks) the answer; the attribution runs in the bundled CLI
// (dist/cli.js, in a child Node process, cancellable) and comes back as a CodeLens per section with its
// effect on the answer and a faint decoration with a hover on the sections that could be cut.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { firstLine } from '../shared/errorText';
import type { AttributionJsonLike, SectionLens } from './attributionHints';
import { attributionHints } from './attributionHints';
import { readInspectorSettings } from './inspectorSettings';

const SEPARATOR = /^---answer---[ \t]*\r?$/m;

interface Shown {
  readonly uri: string;
  readonly version: number;
  readonly lenses: SectionLens[];
}

export function registerAttributeAnswer(context: vscode.ExtensionContext): void {
  let shown: Shown | null = null;
  const changed = new vscode.EventEmitter<void>();
  const faint = vscode.window.createTextEditorDecorationType({ opacity: '0.55', fontStyle: 'italic' });
  const lensProvider: vscode.CodeLensProvider = {
    onDidChangeCodeLenses: changed.event,
    provideCodeLenses: (document) => {
      if (!shown || shown.uri !== document.uri.toString() || shown.version !== document.version) return [];
      return shown.lenses.map(
        (l) =>
          new vscode.CodeLens(new vscode.Range(document.positionAt(l.offset), document.positionAt(l.offset)), {
            title: l.title,
            ...(l.tooltip ? { tooltip: l.tooltip } : {}),
            command: '',
          }),
      );
    },
  };
  const run = async (): Promise<void> => {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Open a prompt to attribute an answer.');
      return;
    }
    const document = editor.document;
    const selection = editor.selection.isEmpty
      ? new vscode.Range(document.positionAt(0), document.positionAt(document.getText().length))
      : editor.selection;
    const text = document.getText(selection);
    const base = document.offsetAt(selection.start);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pa-attribute-'));
    try {
      const promptFile = path.join(dir, 'prompt.txt');
      await fs.writeFile(promptFile, text);
      const args = ['attribute', promptFile, '--format', 'json'];
      if (!SEPARATOR.test(text)) {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          openLabel: 'Attribute this answer',
          title: 'The answer to attribute (or add a line ---answer--- and the answer after the prompt)',
        });
        if (!picked?.[0]) return;
        args.push('--answer', picked[0].fsPath);
      }
      const settings = readInspectorSettings((key) => vscode.workspace.getConfiguration('promptAttention').get(key));
      args.push(
        '--provider',
        settings.provider,
        '--dtype',
        settings.modelDtype,
        '--cache-dir',
        context.globalStorageUri.fsPath,
      );
      if (settings.model) args.push('--model', settings.model);
      await fs.mkdir(context.globalStorageUri.fsPath, { recursive: true });
      const output = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: 'Attributing the answer (leave-one-out ablations)',
          cancellable: true,
        },
        (_progress, token) => runCli(path.join(context.extensionPath, 'dist', 'cli.js'), args, token),
      );
      if (output === null) return;
      const result = JSON.parse(output) as AttributionJsonLike;
      const hints = attributionHints(result, base);
      shown = { uri: document.uri.toString(), version: document.version, lenses: hints.lenses };
      changed.fire();
      editor.setDecorations(
        faint,
        hints.savings.map((s) => ({
          range: new vscode.Range(document.positionAt(s.start), document.positionAt(s.end)),
          hoverMessage: s.hover,
        })),
      );
      void vscode.window.showInformationMessage(hints.summary);
    } catch (error) {
      void vscode.window.showErrorMessage(`Attribute Answer: ${firstLine(error)}`);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  };
  context.subscriptions.push(
    changed,
    faint,
    vscode.languages.registerCodeLensProvider({ scheme: 'file' }, lensProvider),
    vscode.languages.registerCodeLensProvider({ scheme: 'untitled' }, lensProvider),
    vscode.workspace.onDidChangeTextDocument((e) => {
      // An edit makes the figures stale: drop them rather than show them on moved text.
      if (shown && e.document.uri.toString() === shown.uri && e.contentChanges.length > 0) {
        shown = null;
        changed.fire();
        for (const editor of vscode.window.visibleTextEditors)
          if (editor.document === e.document) editor.setDecorations(faint, []);
      }
    }),
    vscode.commands.registerCommand('promptAttention.attributeAnswer', run),
  );
}

/** Runs the CLI under the editor's own Node (ELECTRON_RUN_AS_NODE); null when cancelled. */
export function runCli(cli: string, args: readonly string[], token: vscode.CancellationToken): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [cli, ...args],
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (token.isCancellationRequested) resolve(null);
        else if (error)
          reject(
            new Error(
              stderr
                .trim()
                .split('\n')[0]
                ?.replace(/^prompt-attention \w+: /, '') || error.message,
            ),
          );
        else resolve(stdout);
      },
    );
    token.onCancellationRequested(() => child.kill());
  });
}
