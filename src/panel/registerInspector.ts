// Wires the inspector: the promptAttention.inspect command, Set Hugging Face Token and the panel serializer
// (the panel comes back after a window reload and re-runs its inspection).
import * as vscode from 'vscode';
import type { Log } from '../shared/log';
import { registerAnswerFromFile } from './answerFromFile';
import { registerAttributeAnswer } from './attributeAnswer';
import { registerChooseModel } from './chooseModel';
import { registerDiffWithHead } from './diffWithHead';
import { InspectorController, type PanelCostSource } from './inspectorController';
import { InspectorPanel } from './inspectorPanel';
import { SET_HUB_TOKEN_COMMAND, setHubToken } from './hubToken';

/** `costFor`: the panel's cost summary, which the cost features lend (extension.ts passes it). */
export function registerInspector(context: vscode.ExtensionContext, log: Log, costFor: PanelCostSource): void {
  const controller = new InspectorController(context, log, costFor);
  context.subscriptions.push(
    controller,
    vscode.commands.registerCommand('promptAttention.inspect', () => controller.inspectActiveEditor()),
    vscode.commands.registerCommand('promptAttention.inspectAsChat', () => controller.inspectActiveEditor(true)),
    vscode.commands.registerCommand('promptAttention.inspectAroundCursor', () => controller.inspectAroundCursor()),
    vscode.commands.registerCommand(SET_HUB_TOKEN_COMMAND, () => setHubToken(context.secrets)),
    vscode.window.registerWebviewPanelSerializer(InspectorPanel.viewType, {
      deserializeWebviewPanel: (panel, state: unknown) => controller.restore(panel, state),
    }),
  );
  registerAttributeAnswer(context, controller, log);
  registerAnswerFromFile(context, controller, log);
  registerDiffWithHead(context, controller, log);
  registerChooseModel(context, log);
}
