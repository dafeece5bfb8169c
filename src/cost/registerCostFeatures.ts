import type * as vscode from 'vscode';

// Placeholder until the context-cost features land (issue 6).
export function registerCostFeatures(_context: vscode.ExtensionContext): void {}
