// The "Prompt Attention: Diff Sections with HEAD" command: the active file at git HEAD (read through the
// built-in git extension's API) against the working copy, section by section, in the inspector's worker on
// its warm model (same settings, trust and log as an inspection); a CodeLens per working-copy section with its
// status and the change in tokens and attention.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { splitPromptSections } from '../shared/promptSections';
import { firstLine } from '../shared/errorText';
import type { Log } from '../shared/log';
import type { SectionLens } from './attributionHints';
import { runExplainWithProgress } from './explainProgress';
import type { InspectorController } from './inspectorController';
import { sectionDiffHints } from './sectionDiffHints';

/** The embedded model's name, for the counts of a diff run without promptAttention.model. */
const DEFAULT_MODEL_LABEL = 'pa-mini-llama';

/** The part of the git extension's API (vscode.git, API version 1) this command uses. */
interface GitRepository {
  show(ref: string, path: string): Promise<string>;
}

interface GitApi {
  getRepository(uri: vscode.Uri): GitRepository | null;
  /** Opens the repository at a folder the extension has not discovered yet (a repository created since). */
  openRepository?(root: vscode.Uri): Promise<GitRepository | null>;
}

async function headVersion(uri: vscode.Uri): Promise<string> {
  const extension = vscode.extensions.getExtension<{ getAPI(version: 1): GitApi }>('vscode.git');
  if (!extension) throw new Error('the built-in git extension is not available');
  const exports = extension.isActive ? extension.exports : await extension.activate();
  let api: GitApi;
  try {
    api = exports.getAPI(1);
  } catch {
    throw new Error('the git extension is off (git.enabled) or found no git executable');
  }
  const repository =
    api.getRepository(uri) ??
    (await api.openRepository?.(vscode.Uri.file(path.dirname(uri.fsPath))).catch(() => null)) ??
    null;
  if (!repository) throw new Error(`${path.basename(uri.fsPath)} is not in a git repository`);
  try {
    return await repository.show('HEAD', uri.fsPath);
  } catch {
    throw new Error(`${path.basename(uri.fsPath)} is not in HEAD (a new file?)`);
  }
}

export function registerDiffWithHead(
  context: vscode.ExtensionContext,
  controller: InspectorController,
  log: Log,
): void {
  let shown: { uri: string; version: number; lenses: SectionLens[] } | null = null;
  const changed = new vscode.EventEmitter<void>();
  const provider: vscode.CodeLensProvider = {
    onDidChangeCodeLenses: changed.event,
    provideCodeLenses: (document) =>
      shown && shown.uri === document.uri.toString() && shown.version === document.version
        ? shown.lenses.map(
            (l) =>
              new vscode.CodeLens(new vscode.Range(document.positionAt(l.offset), document.positionAt(l.offset)), {
                title: l.title,
                ...(l.tooltip ? { tooltip: l.tooltip } : {}),
                command: '',
              }),
          )
        : [],
  };
  const run = async (): Promise<void> => {
    const document = vscode.window.activeTextEditor?.document;
    if (!document || document.uri.scheme !== 'file') {
      void vscode.window.showInformationMessage('Open a prompt file in a git repository to compare it with HEAD.');
      return;
    }
    try {
      const oldText = await headVersion(document.uri);
      const newText = document.getText();
      if (oldText === newText) {
        void vscode.window.showInformationMessage('No difference from HEAD.');
        return;
      }
      const { worker, choice } = await controller.explainTarget();
      const outcome = await runExplainWithProgress(
        'Comparing the sections with HEAD',
        (onEvent) => worker.sectionDiff({ ...choice, oldText, newText, answer: null }, onEvent),
        log,
      );
      if (outcome === null) return;
      const output = outcome.value;
      if (output === null) {
        void vscode.window.showInformationMessage('No difference from HEAD.');
        return;
      }
      const sections = splitPromptSections(newText);
      const hints = sectionDiffHints(output, (index) => sections[index]?.start, choice.model || DEFAULT_MODEL_LABEL);
      shown = { uri: document.uri.toString(), version: document.version, lenses: hints.lenses };
      changed.fire();
      void vscode.window.showInformationMessage(hints.summary);
    } catch (error) {
      void vscode.window.showErrorMessage(`Diff Sections with HEAD: ${firstLine(error)}`);
    }
  };
  context.subscriptions.push(
    changed,
    vscode.languages.registerCodeLensProvider({ scheme: 'file' }, provider),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (shown && e.document.uri.toString() === shown.uri && e.contentChanges.length > 0) {
        shown = null;
        changed.fire();
      }
    }),
    vscode.commands.registerCommand('promptAttention.diffWithHead', run),
  );
}
