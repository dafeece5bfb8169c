// Integration tests in a real VS Code: activation, the contributed command, and one inspection.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { waitFor } from '../../helpers/waitFor';

const EXTENSION_ID = 'prompt-attention.prompt-attention';
const INSPECTOR_VIEW_TYPE = 'promptAttention.inspector';

function inspectorTab(): vscode.Tab | undefined {
  return vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .find((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.endsWith(INSPECTOR_VIEW_TYPE));
}

suite('Prompt Attention in VS Code', () => {
  test('the extension is installed and activates', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not installed`);
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  test('it contributes the Inspect Attention command', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('promptAttention.inspect'));
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as {
      contributes: { commands: { command: string; title: string }[] };
    };
    assert.ok(
      manifest.contributes.commands.some(
        (command) => command.command === 'promptAttention.inspect' && command.title === 'Inspect Attention',
      ),
    );
  });

  test('inspecting a small selection opens the inspector panel', async () => {
    const document = await vscode.workspace.openTextDocument({
      language: 'markdown',
      content: 'You are a careful assistant.\nAnswer in one sentence and cite the document you used.\n',
    });
    const editor = await vscode.window.showTextDocument(document);
    editor.selection = new vscode.Selection(0, 0, 1, document.lineAt(1).text.length);
    await vscode.commands.executeCommand('promptAttention.inspect');
    const tab = await waitFor('the inspector panel', inspectorTab, 60_000, 200);
    assert.ok(tab.label.length > 0);
  });
});
