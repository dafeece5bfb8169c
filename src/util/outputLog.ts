// The extension's log: a LogOutputChannel named "Prompt Attention" (Output view, with VS Code's log levels)
// behind the vscode-free Log interface that the panel, the worker owner and the cost features write to.
import * as vscode from 'vscode';
import { withStack, type Log } from '../shared/log';

export function createOutputLog(context: vscode.ExtensionContext): Log {
  const channel = vscode.window.createOutputChannel('Prompt Attention', { log: true });
  context.subscriptions.push(channel);
  return {
    info: (m) => channel.info(m),
    warn: (m) => channel.warn(m),
    error: (m, e) => channel.error(withStack(m, e)),
  };
}
