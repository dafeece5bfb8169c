// Wires the live context-cost features (status bar, diagnostics, CodeLens) and the Pick Target command.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { CostController } from './costController';
import { pickTarget } from './pickTarget';

export function registerCostFeatures(context: vscode.ExtensionContext): void {
  const controller = new CostController(join(context.extensionPath, 'tokenizers'));
  context.subscriptions.push(controller);
  context.subscriptions.push(vscode.commands.registerCommand('promptAttention.pickTarget', () => {
    const { catalog, target } = controller.currentSettings;
    return pickTarget(catalog, target.id);
  }));
}
