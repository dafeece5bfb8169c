// The "Pick Target Model" quick pick: lists the presets grouped by provider, each saying whether its count is
// exact or an estimate, and writes promptAttention.cost.target.
import * as vscode from 'vscode';
import { tokenizerLabel } from './costBreakdown';
import { formatParameters, formatWindow } from '../shared/format';
import type { PresetCatalog, TargetPreset } from './presets';

interface PresetItem extends vscode.QuickPickItem {
  readonly preset?: TargetPreset;
}

/** A separator per provider, in the order providers first appear; user presets without one go under "Custom". */
export function presetPickItems(catalog: PresetCatalog, currentId: string): PresetItem[] {
  const groups = new Map<string, TargetPreset[]>();
  for (const preset of catalog.presets) groups.set(preset.provider, [...(groups.get(preset.provider) ?? []), preset]);
  const items: PresetItem[] = [];
  for (const [provider, presets] of groups) {
    items.push({ label: provider, kind: vscode.QuickPickItemKind.Separator });
    for (const preset of presets) {
      const arch = preset.architecture;
      const params = arch
        ? arch.activeParameters === undefined
          ? formatParameters(arch.parameters)
          : `${formatParameters(arch.activeParameters)} active of ${formatParameters(arch.parameters)}`
        : '';
      const details = [
        preset.exact ? 'exact count' : preset.countApi ? '≈ estimate (exact on request)' : '≈ estimate',
        `${formatWindow(preset.contextWindow)} context`,
        arch
          ? `${params} params · ${arch.layers} layers · ${arch.attentionHeads} heads (${arch.kvHeads} KV)`
          : 'architecture not public',
        tokenizerLabel(preset).replace(/ \(the model's tokenizer is not public\)$/, ''),
      ];
      items.push({
        label: `${preset.id === currentId ? '$(check) ' : ''}${preset.exact ? '' : '≈ '}${preset.name}`,
        description: preset.id,
        detail: details.join(' · '),
        preset,
      });
    }
  }
  return items;
}

export async function pickTarget(catalog: PresetCatalog, currentId: string): Promise<void> {
  const choice = await vscode.window.showQuickPick(presetPickItems(catalog, currentId), {
    title: 'Prompt Attention: target model for token counts and context cost',
    placeHolder: 'Pick the model you are writing this prompt for (≈: estimated count)',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (!choice?.preset) return;
  const config = vscode.workspace.getConfiguration('promptAttention.cost');
  // Keep the choice where the user set it before: the workspace if it overrides the target, else globally.
  const inspected = config.inspect<string>('target');
  const scope =
    inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await config.update('target', choice.preset.id, scope);
}
