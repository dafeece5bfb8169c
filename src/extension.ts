// Extension entry point: opens the log, then wires the inspector (panel + worker) and the live
// context-cost features.
import type * as vscode from 'vscode';
import { registerInspector } from './panel/registerInspector';
import { registerCostFeatures } from './cost/registerCostFeatures';
import { createOutputLog } from './util/outputLog';

export function activate(context: vscode.ExtensionContext): void {
  const log = createOutputLog(context);
  const cost = registerCostFeatures(context);
  // The panel's cost summary counts in the cost features' tokenizer worker.
  registerInspector(context, log, cost.summarize);
}

export function deactivate(): void {
  // Everything is owned by context.subscriptions.
}
