// The "Pick Target Model" quick pick: lists the presets and writes promptAttention.cost.target.
import * as vscode from 'vscode';
import { formatParameters, formatWindow } from './format';
import type { PresetCatalog, TargetPreset } from './presets';
import { TOKENIZER_LABELS } from './tokenCounters';

interface PresetItem extends vscode.QuickPickItem {
  readonly preset: TargetPreset;
}

export function presetPickItems(catalog: PresetCatalog, currentId: string): PresetItem[] {
  return catalog.presets.map((preset) => {
    const arch = preset.architecture;
    const details = [
      `${formatWindow(preset.contextWindow)} context`,
      arch ? `${formatParameters(arch.parameters)} params · ${arch.layers} layers · ${arch.attentionHeads} heads (${arch.kvHeads} KV)` : 'architecture not public',
      TOKENIZER_LABELS[preset.tokenizer],
    ];
    return {
      label: `${preset.id === currentId ? '$(check) ' : ''}${preset.name}`,
      description: preset.id,
      detail: details.join(' · '),
      preset,
    };
  });
}

export async function pickTarget(catalog: PresetCatalog, currentId: string): Promise<void> {
  const choice = await vscode.window.showQuickPick(presetPickItems(catalog, currentId), {
    title: 'Prompt Attention: target model for token counts and context cost',
    placeHolder: 'Pick the model you are writing this prompt for',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!choice) return;
  const config = vscode.workspace.getConfiguration('promptAttention.cost');
  // Keep the choice where the user set it before: the workspace if it overrides the target, else globally.
  const inspected = config.inspect<string>('target');
  const scope = inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update('target', choice.preset.id, scope);
}
