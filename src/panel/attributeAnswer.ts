// The "Prompt Attention: Attribute Answer" command: the selection (or the document) is the prompt, the text
// after a line ---answer--- (or a file the user picks) the answer; the attribution runs in the inspector's
// worker on its warm model (same settings, trust and log as an inspection; cancellable, with numbered
// progress) and comes back as a CodeLens per section with its effect on the answer and a faint decoration
// with a hover on the sections that could be cut.
import * as vscode from 'vscode';
import { splitAnswer } from '../shared/answerText';
import { firstLine } from '../shared/errorText';
import type { Log } from '../shared/log';
import type { SectionLens } from './attributionHints';
import { attributionHints } from './attributionHints';
import { runExplainWithProgress } from './explainProgress';
import type { InspectorController } from './inspectorController';

interface Shown {
  readonly uri: string;
  readonly version: number;
  readonly lenses: SectionLens[];
}

export function registerAttributeAnswer(
  context: vscode.ExtensionContext,
  controller: InspectorController,
  log: Log,
): void {
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
    try {
      const split = splitAnswer(text);
      let answer: string;
      if (split) answer = split.answer;
      else {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          openLabel: 'Attribute this answer',
          title: 'The answer to attribute (or add a line ---answer--- and the answer after the prompt)',
        });
        if (!picked?.[0]) return;
        answer = new TextDecoder().decode(await vscode.workspace.fs.readFile(picked[0]));
      }
      const prompt = split ? split.prompt : text;
      const { worker, choice } = await controller.explainTarget();
      const outcome = await runExplainWithProgress(
        'Attributing the answer (leave-one-out ablations)',
        (onEvent) => worker.attribute({ ...choice, prompt, answer: { text: answer } }, onEvent),
        log,
        (message) => controller.showExplainProgress(`Attribute Answer: ${message}`),
      );
      if (outcome === null) return;
      const hints = attributionHints(outcome.value, base);
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
