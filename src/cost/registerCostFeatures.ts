// Wires the live context-cost features (status bar, diagnostics, CodeLens) and the cost commands: Pick Target,
// Count Tokens Exactly (the provider's endpoint, on request) and Set API Key (kept in VS Code's SecretStorage).
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CostController, type CostControllerOptions } from './costController';
import type { PromptCounter } from './costSummary';
import { apiKeySecretName, PROVIDER_LABELS } from './exactCount';
import { panelCostSummary } from './panelCost';
import { pickTarget } from './pickTarget';
import { COUNT_API_PROVIDERS, type CountApiProvider } from './presets';
import type { CostSummary } from '../shared/protocol';

/** What the cost features lend the rest of the extension (extension.ts hands it to the inspector). */
export interface CostFeatures {
  /** Counts a whole prompt in the cost features' tokenizer worker. */
  readonly countPrompt: PromptCounter;
  /** The cost summary of a text under the promptAttention.cost.* settings, counted in that worker. */
  readonly summarize: (text: string) => Promise<CostSummary>;
}

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
): CostFeatures {
  const controller = new CostController(join(context.extensionPath, 'tokenizers'), {
    workerScript: join(context.extensionPath, 'dist', 'tokenizerWorker.js'),
    secrets: context.secrets,
    ...overrides,
  });
  context.subscriptions.push(controller);
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
  const countPrompt: PromptCounter = (text, preset) => controller.countPrompt(text, preset);
  return {
    countPrompt,
    summarize: (text) => {
      const config = vscode.workspace.getConfiguration('promptAttention.cost');
      return panelCostSummary(text, (key) => config.get(key), countPrompt);
    },
  };
}
