// Extension entry point: opens the log, then wires the inspector (panel + worker) and the live
// context-cost features.
import type * as vscode from 'vscode';
import { registerInspector } from './panel/registerInspector';
import { registerCostFeatures } from './cost/registerCostFeatures';
import { createOutputLog } from './util/outputLog';

export function activate(context: vscode.ExtensionContext): void {
  const log = createOutputLog(context);
  registerInspector(context, log);
  registerCostFeatures(context);
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions.
}
