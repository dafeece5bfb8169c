// The cost summary of a whole text for one target: what the inspector panel, the command line and the
// status-bar tooltip show. No vscode import: the caller reads the settings and passes them in.
import type { CostSummary, SectionCount } from '../shared/protocol';
import { coverSections } from '../shared/promptSections';
import { computeCost, layerSplit, tokensWithinKvBudget, type CostFigures } from './costModel';
import { formatBytes, formatCount, formatShare, formatWindow } from '../shared/format';
import { DEFAULT_COST_OPTIONS, type CostOptions } from './costSettings';
import { countSections, IncrementalCounter, type CountSnapshot } from './incrementalCounter';
import {
  buildCatalog,
  DEFAULT_TARGET_ID,
  findPreset,
  unknownTargetMessage,
  type PresetCatalog,
  type TargetPreset,
} from './presets';
import { chatOverheadTokens, loadTokenCounter, TOKENIZER_LABELS } from './tokenCounters';

export interface CostSummaryOptions extends Partial<CostOptions> {
  /** User presets (the promptAttention.cost.presets setting), validated here. */
  readonly userPresets?: unknown;
  /** A catalog already built by the caller; wins over userPresets. */
  readonly catalog?: PresetCatalog;
  /** Folder of the vendored tokenizer assets (defaults to the one next to the bundle). */
  readonly assetsDir?: string;
  /** Where to count: the extension passes its tokenizer worker's counter, so the panel's cost summary never
   * builds a tokenizer on the extension host. The CLI and tests count in-process (the default). */
  readonly counter?: PromptCounter;
}

/** One-line warnings for the figures, in the order a reader needs them. */
export function costWarnings(preset: TargetPreset, figures: CostFigures, options: CostOptions): string[] {
  const warnings: string[] = [];
  const window = `${preset.name}'s ${formatWindow(preset.contextWindow)}-token context window`;
  if (figures.contextShare > options.errorShare) {
    warnings.push(
      figures.tokens > preset.contextWindow
        ? `${formatCount(figures.tokens)} tokens exceed ${window} by ${formatCount(figures.tokens - preset.contextWindow)} tokens.`
        : `${formatCount(figures.tokens)} tokens use ${formatShare(figures.contextShare)} of ${window}, above the ${formatShare(options.errorShare)} error threshold.`,
    );
  } else if (figures.contextShare >= options.warningShare) {
    warnings.push(`${formatCount(figures.tokens)} tokens use ${formatShare(figures.contextShare)} of ${window}.`);
  }
  if (!preset.architecture) {
    warnings.push(`${preset.name}'s architecture is not public: attention, FLOP and KV-cache figures are unknown.`);
  } else {
    const fit = options.kvBudgetBytes > 0 ? tokensWithinKvBudget(preset, options.kvBudgetBytes, options.kvDtype) : null;
    if (fit !== null && figures.tokens > fit && figures.kvCacheBytes !== null) {
      warnings.push(
        `KV cache of ${formatBytes(figures.kvCacheBytes)} (${figures.kvDtype}) exceeds the ${formatBytes(options.kvBudgetBytes)} budget after ${formatCount(fit)} tokens.`,
      );
    }
    // Models that interleave global layers still see every token directly.
    if (
      preset.architecture.slidingWindow !== undefined &&
      layerSplit(preset.architecture).global === 0 &&
      figures.tokens > preset.architecture.slidingWindow
    ) {
      warnings.push(
        `${preset.name} attends over a ${formatCount(preset.architecture.slidingWindow)}-token sliding window: earlier tokens are reached only indirectly.`,
      );
    }
  }
  return warnings;
}

export function toCostSummary(
  preset: TargetPreset,
  figures: CostFigures,
  options: CostOptions,
  sections?: readonly SectionCount[],
): CostSummary {
  return {
    target: preset.id,
    targetName: preset.name,
    tokens: figures.promptTokens,
    contextWindow: figures.contextWindow,
    contextShare: figures.contextShare,
    attentionScores: figures.attentionScores,
    attentionScoresCausal: figures.attentionScoresCausal,
    attentionFlops: figures.attentionFlops,
    linearFlops: figures.linearFlops,
    kvCacheBytes: figures.kvCacheBytes,
    price: figures.price,
    warnings: costWarnings(preset, figures, options),
    exact: preset.exact,
    tokenizer: TOKENIZER_LABELS[preset.tokenizer],
    ...(sections ? { sections } : {}),
  };
}

export function resolveOptions(options: Partial<CostOptions>): CostOptions {
  return {
    warningShare: options.warningShare ?? DEFAULT_COST_OPTIONS.warningShare,
    errorShare: options.errorShare ?? DEFAULT_COST_OPTIONS.errorShare,
    kvBudgetBytes: options.kvBudgetBytes ?? DEFAULT_COST_OPTIONS.kvBudgetBytes,
    ...(options.kvDtype ? { kvDtype: options.kvDtype } : {}),
  };
}

/** A whole prompt's count for a target: its tokens, the chat framing's, and the chunks (for section counts). */
export interface PromptCount {
  readonly tokens: number;
  readonly chatOverhead: number;
  readonly snapshot?: CountSnapshot;
}

/** Counts a whole prompt for a target. */
export type PromptCounter = (text: string, preset: TargetPreset, assetsDir?: string) => Promise<PromptCount>;

async function countHere(text: string, preset: TargetPreset, assetsDir?: string): Promise<PromptCount> {
  const counter = await loadTokenCounter(preset.tokenizer, assetsDir ? { assetsDir } : {});
  // Chunked counting is exact and much faster than one call for long SentencePiece inputs.
  const snapshot = new IncrementalCounter(counter).update(text);
  return { tokens: snapshot.total, chatOverhead: chatOverheadTokens(preset, counter), snapshot };
}

/** The target's tokens per section: the same sections, and so the same counts, as the editor's CodeLens. */
export function sectionCounts(snapshot: CountSnapshot): SectionCount[] {
  const cover = coverSections(snapshot.text);
  const counts = countSections(snapshot, cover);
  return cover.map((section, i) => ({ start: section.start, end: section.end, tokens: counts[i] }));
}

/** Counts `text` with the target's tokenizer and computes its cost. Rejects with a one-line message for an unknown
 * target. */
export async function computeCostSummary(
  text: string,
  targetId: string = DEFAULT_TARGET_ID,
  options: CostSummaryOptions = {},
): Promise<CostSummary> {
  const catalog = options.catalog ?? buildCatalog(options.userPresets);
  const preset = findPreset(catalog, targetId);
  if (!preset) throw new Error(unknownTargetMessage(catalog, targetId));
  const resolved = resolveOptions(options);
  const { tokens, chatOverhead, snapshot } = await (options.counter ?? countHere)(text, preset, options.assetsDir);
  const figures = computeCost(preset, tokens, resolved.kvDtype, chatOverhead);
  return toCostSummary(preset, figures, resolved, snapshot ? sectionCounts(snapshot) : undefined);
}
