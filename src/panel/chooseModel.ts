// Prompt Attention: Choose Model…: a quick pick of the models on this machine (modelDiscovery), whose choice
// is written to `promptAttention.model` in the USER settings (a workspace still cannot choose the model:
// restricted mode reads that key from the user settings only). The webview's "Choose a model…" buttons run
// this command too.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_MODEL_NAME, defaultStoreEnv, discoverModels } from '../worker/modelDiscovery';
import { firstLine } from '../shared/errorText';
import type { Log } from '../shared/log';
import type { ModelPick } from './modelPicks';
import { chosenMessage, modelPicks } from './modelPicks';

export const CHOOSE_MODEL_COMMAND = 'promptAttention.chooseModel';

type PickItem = vscode.QuickPickItem & { readonly pick: ModelPick };

async function chooseModel(context: vscode.ExtensionContext, log: Log): Promise<void> {
  const quickPick = vscode.window.createQuickPick<PickItem>();
  quickPick.title = 'Prompt Attention: Choose Model';
  quickPick.placeholder = 'Looking for models (Ollama, LM Studio, llama.cpp, Hugging Face cache)…';
  quickPick.matchOnDescription = true;
  quickPick.matchOnDetail = true;
  quickPick.busy = true;
  const chosen = new Promise<PickItem | undefined>((resolve) => {
    quickPick.onDidAccept(() => resolve(quickPick.selectedItems[0]));
    quickPick.onDidHide(() => resolve(undefined));
  });
  quickPick.show();
  try {
    const config = vscode.workspace.getConfiguration('promptAttention');
    const current = config.inspect<string>('model')?.globalValue ?? '';
    const models = await discoverModels({
      store: defaultStoreEnv(),
      embeddedFolder: path.join(context.extensionPath, 'models', DEFAULT_MODEL_NAME),
      onSkip: (where, reason) => log.warn(`Choose Model: skipped ${where}: ${firstLine(reason)}`),
    });
    const items = modelPicks(models, current).map((pick): PickItem => ({
      label: pick.label,
      description: pick.description,
      detail: pick.detail,
      pick,
    }));
    quickPick.items = items;
    quickPick.activeItems = items.filter((i) => i.pick.current);
    quickPick.busy = false;
    quickPick.placeholder = 'The model Prompt Attention inspects with (saved to your user settings)';
    const item = await chosen;
    if (!item) return;
    await config.update('model', item.pick.value, vscode.ConfigurationTarget.Global);
    const scopes = vscode.workspace.getConfiguration('promptAttention').inspect<string>('model');
    const workspaceValue = vscode.workspace.isTrusted
      ? (scopes?.workspaceFolderValue ?? scopes?.workspaceValue)
      : undefined;
    const overridden = workspaceValue !== undefined && workspaceValue !== item.pick.value ? workspaceValue : undefined;
    const name = item.pick.label.replace(/^\$\(check\) /, '');
    void vscode.window.showInformationMessage(chosenMessage(name, overridden));
  } finally {
    quickPick.dispose();
  }
}

export function registerChooseModel(context: vscode.ExtensionContext, log: Log): void {
  context.subscriptions.push(
    vscode.commands.registerCommand(CHOOSE_MODEL_COMMAND, () =>
      chooseModel(context, log).catch((error: unknown) => {
        log.error('Choose Model failed', error);
        void vscode.window.showErrorMessage(`Prompt Attention: ${firstLine(error)}`);
      }),
    ),
  );
}
