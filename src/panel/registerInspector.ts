import type * as vscode from 'vscode';

// Placeholder until the inspector panel lands (issue 5).
export function registerInspector(_context: vscode.ExtensionContext): void {}
