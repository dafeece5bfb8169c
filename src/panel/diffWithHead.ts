// The "Prompt Attention: Diff Sections with HEAD" command: the active file at git HEAD (read through the
// built-in git extension's API) against the working copy, section by section, by the bundled CLI's diff;
// a CodeLens per working-copy section with its status and the change in tokens and attention.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { splitPromptSections } from '../shared/promptSections';
import { firstLine } from '../shared/errorText';
import type { SectionLens } from './attributionHints';
import { runCli } from './attributeAnswer';
import { readInspectorSettings } from './inspectorSettings';
import type { DiffJsonLike } from './sectionDiffHints';
import { sectionDiffHints } from './sectionDiffHints';

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

export function registerDiffWithHead(context: vscode.ExtensionContext): void {
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
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pa-diff-'));
    try {
      const oldText = await headVersion(document.uri);
      const newText = document.getText();
      const oldFile = path.join(dir, 'head.txt');
      const newFile = path.join(dir, 'working.txt');
      await fs.writeFile(oldFile, oldText);
      await fs.writeFile(newFile, newText);
      const settings = readInspectorSettings((key) => vscode.workspace.getConfiguration('promptAttention').get(key));
      const args = [
        'diff',
        oldFile,
        newFile,
        '--format',
        'json',
        '--provider',
        settings.provider,
        '--dtype',
        settings.modelDtype,
        '--cache-dir',
        context.globalStorageUri.fsPath,
      ];
      if (settings.model) args.push('--model', settings.model);
      await fs.mkdir(context.globalStorageUri.fsPath, { recursive: true });
      const output = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: 'Comparing the sections with HEAD',
          cancellable: true,
        },
        (_p, token) => runCli(path.join(context.extensionPath, 'dist', 'cli.js'), args, token),
      );
      if (output === null) return;
      if (output.trim() === 'no difference') {
        void vscode.window.showInformationMessage('No difference from HEAD.');
        return;
      }
      const sections = splitPromptSections(newText);
      const hints = sectionDiffHints(JSON.parse(output) as DiffJsonLike, (index) => sections[index]?.start);
      shown = { uri: document.uri.toString(), version: document.version, lenses: hints.lenses };
      changed.fire();
      void vscode.window.showInformationMessage(hints.summary);
    } catch (error) {
      void vscode.window.showErrorMessage(`Diff Sections with HEAD: ${firstLine(error)}`);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
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
