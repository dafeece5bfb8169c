// Wires the live context-cost features (status bar, diagnostics, CodeLens) and the cost commands: Pick Target,
// Count Tokens Exactly (the provider's endpoint, on request) and Set API Key (kept in VS Code's SecretStorage).
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CostController, type CostControllerOptions } from './costController';
import { setPromptCounter } from './costSummary';
import { apiKeySecretName, PROVIDER_LABELS } from './exactCount';
import { pickTarget } from './pickTarget';
import { COUNT_API_PROVIDERS, type CountApiProvider } from './presets';

/** Asks for a provider and its key; an empty key removes the stored one. The key is never shown or logged. */
async function setApiKey(secrets: vscode.SecretStorage, preferred: CountApiProvider | undefined): Promise<void> {
  const items = COUNT_API_PROVIDERS.map((provider) => ({
    label: PROVIDER_LABELS[provider],
    description: provider === preferred ? 'current target' : '',
    provider,
  }));
  const choice = await vscode.window.showQuickPick(items, {
    title: 'Prompt Attention: API key for exact token counts',
    placeHolder: 'Which provider?',
  });
  if (!choice) return;
  const key = await vscode.window.showInputBox({
    title: `Prompt Attention: ${choice.label} API key`,
    prompt: `Stored in VS Code's secret storage and sent only to ${choice.label}'s token-count endpoint. Leave empty to remove it.`,
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return;
  if (key.trim() === '') {
    await secrets.delete(apiKeySecretName(choice.provider));
    void vscode.window.showInformationMessage(`Prompt Attention: removed the ${choice.label} API key.`);
  } else {
    await secrets.store(apiKeySecretName(choice.provider), key.trim());
    void vscode.window.showInformationMessage(
      `Prompt Attention: stored the ${choice.label} API key in VS Code's secret storage.`,
    );
  }
}

export function registerCostFeatures(
  context: vscode.ExtensionContext,
  overrides: Partial<CostControllerOptions> = {},
): void {
  const controller = new CostController(join(context.extensionPath, 'tokenizers'), {
    workerScript: join(context.extensionPath, 'dist', 'tokenizerWorker.js'),
    secrets: context.secrets,
    ...overrides,
  });
  context.subscriptions.push(controller);
  // The panel's cost summary counts in the same worker.
  context.subscriptions.push({ dispose: setPromptCounter((text, preset) => controller.countPrompt(text, preset)) });
  context.subscriptions.push(
    vscode.commands.registerCommand('promptAttention.pickTarget', () => {
      const { catalog, target } = controller.currentSettings;
      return pickTarget(catalog, target.id);
    }),
  );
  context.subscriptions.push(
    vscode.commands.registerCommand('promptAttention.countExact', () => controller.countExact()),
  );
  context.subscriptions.push(
    vscode.commands.registerCommand('promptAttention.setApiKey', () =>
      setApiKey(context.secrets, controller.currentSettings.target.countApi?.provider),
    ),
  );
}
