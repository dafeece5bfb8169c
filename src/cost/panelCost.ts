// The inspector panel's cost figures read the same promptAttention.cost.* settings as the status bar (target,
// presets, thresholds, KV budget, KV dtype), through the one reader, readCostSettings. No `vscode` import:
// the caller passes the settings getter and, in the extension, the tokenizer worker's counter.
import { readCostSettings } from './costSettings';
import { computeCostSummary, type PromptCounter } from './costSummary';
import type { CostSummary } from '../shared/protocol';

/** `get(key)` returns `promptAttention.cost.<key>`. Rejects when the target's counts cannot be made. */
export function panelCostSummary(
  text: string,
  get: (key: string) => unknown,
  counter?: PromptCounter,
): Promise<CostSummary> {
  const settings = readCostSettings(get);
  return computeCostSummary(text, settings.target.id, {
    catalog: settings.catalog,
    ...settings.options,
    ...(counter ? { counter } : {}),
  });
}
