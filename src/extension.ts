// Extension entry point: wires the inspector (panel + worker) and the live context-cost features.
import type * as vscode from 'vscode';
import { registerInspector } from './panel/registerInspector';
import { registerCostFeatures } from './cost/registerCostFeatures';

export function activate(context: vscode.ExtensionContext): void {
  registerInspector(context);
  registerCostFeatures(context);
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions.
}
