// "Prompt Attention: Answer from File…" (and the Answer card's button of that name): the answer strip reads
// a file's text as the answer to the inspected prompt, as it reads the text after `---answer---`. The command
// takes the file as an argument (a URI, or a path, relative ones from the first workspace folder) or asks
// for it; a window reload reads the same file again.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { firstLine } from '../shared/errorText';
import type { Log } from '../shared/log';
import type { InspectorController } from './inspectorController';

export const ANSWER_FROM_FILE_COMMAND = 'promptAttention.answerFromFile';

/** The file an argument names: a Uri, a `scheme:` URI string, or a path (relative to `root`); else undefined. */
export function answerFileUri(arg: unknown, root: vscode.Uri | undefined): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg !== 'string' || arg.trim() === '') return undefined;
  // A scheme of two letters or more ("file:", "untitled:"); a Windows drive ("C:\\") is a path.
  if (/^[a-z][a-z0-9+.-]+:/i.test(arg)) return vscode.Uri.parse(arg);
  if (path.isAbsolute(arg) || !root) return vscode.Uri.file(path.resolve(arg));
  return vscode.Uri.joinPath(root, arg);
}

export async function answerFromFile(controller: InspectorController, log: Log, arg?: unknown): Promise<void> {
  if (!controller.hasInspection()) {
    void vscode.window.showInformationMessage(
      'Inspect a prompt first: the answer from a file is read after the inspected text, in the panel’s Answer card.',
    );
    return;
  }
  let uri = answerFileUri(arg, vscode.workspace.workspaceFolders?.[0]?.uri);
  if (!uri) {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Read this answer',
      title: 'The answer to the inspected prompt (the panel shows what each of its tokens read)',
    });
    uri = picked?.[0];
    if (!uri) return;
  }
  let text: string;
  try {
    text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  } catch (error) {
    log.error(`Could not read the answer file ${uri.toString()}`, error);
    void vscode.window.showErrorMessage(
      `Answer from File: cannot read ${uri.fsPath || uri.toString()}: ${firstLine(error)}`,
    );
    return;
  }
  await controller.readAnswerFile(uri.toString(), text);
}

export function registerAnswerFromFile(
  context: vscode.ExtensionContext,
  controller: InspectorController,
  log: Log,
): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(ANSWER_FROM_FILE_COMMAND, (arg?: unknown) => answerFromFile(controller, log, arg)),
  );
}
