// The cost of n prompt tokens on a target model: pure arithmetic, no I/O.
//
// Conventions (one forward pass over the prompt, batch 1):
// - attention scores: query·key dot products, n² per query head per layer for the full matrix, and the
//   causal (lower-triangle) count n(n+1)/2. With a sliding window W each query sees at most W keys.
// - attention FLOPs: QKᵀ and A·V each take n_q·n_k·d_head multiply-adds per head, i.e. 2·n_q·n_k·d_head FLOPs,
//   so 2 · 2 · n² · d_head · heads · layers for the full matrix (softmax and masking are not counted).
// - dense (linear) FLOPs: ≈ 2 × parameters × n (one multiply-add per weight per token, embeddings included).
// - KV cache: 2 (K and V) × layers × KV heads × head dim × bytes per element, per token held (GQA-aware).
import { KV_DTYPE_BYTES, type KvDtype, type TargetPreset } from './presets';

export interface CostFigures {
  readonly tokens: number;
  readonly contextWindow: number;
  /** tokens / contextWindow (1 = full; above 1 = over). */
  readonly contextShare: number;
  readonly attentionScores: number | null;
  readonly attentionScoresCausal: number | null;
  readonly attentionFlops: number | null;
  readonly linearFlops: number | null;
  /** attentionFlops / (attentionFlops + linearFlops). */
  readonly attentionFlopsShare: number | null;
  /** The prompt length where attention FLOPs equal the dense FLOPs. */
  readonly quadraticCrossoverTokens: number | null;
  readonly kvDtype: KvDtype | null;
  readonly kvBytesPerToken: number | null;
  readonly kvCacheBytes: number | null;
  /** In the preset's currency unit (US dollars for the built-ins). */
  readonly price: number | null;
}

/** Keys one query sees at position i (1-based) with an optional sliding window. */
function keysSeen(position: number, window: number | undefined): number {
  return window === undefined ? position : Math.min(position, window);
}

/** Σ_{i=1..n} min(i, W): causal dot products per head per layer. */
export function causalScores(n: number, window?: number): number {
  if (window === undefined || n <= window) return (n * (n + 1)) / 2;
  return (window * (window + 1)) / 2 + (n - window) * window;
}

/** Full-matrix dot products per head per layer: n × (keys per query). */
export function fullScores(n: number, window?: number): number {
  return n * keysSeen(n, window);
}

export function kvBytesPerToken(preset: TargetPreset, dtype: KvDtype): number | null {
  const arch = preset.architecture;
  if (!arch) return null;
  return 2 * arch.layers * arch.kvHeads * arch.headDim * KV_DTYPE_BYTES[dtype];
}

/** Figures for `tokens` prompt tokens; `kvDtype` overrides the preset's default. */
export function computeCost(preset: TargetPreset, tokens: number, kvDtype?: KvDtype): CostFigures {
  const arch = preset.architecture;
  const dtype = arch ? (kvDtype ?? preset.kvDtype ?? 'bf16') : null;
  const window = arch?.slidingWindow;
  const perHeadLayer = arch ? arch.attentionHeads * arch.layers : 0;
  const attentionScores = arch ? fullScores(tokens, window) * perHeadLayer : null;
  const attentionScoresCausal = arch ? causalScores(tokens, window) * perHeadLayer : null;
  const attentionFlops = arch && attentionScores !== null ? 4 * attentionScores * arch.headDim : null;
  const linearFlops = arch ? 2 * arch.parameters * tokens : null;
  const totalFlops = attentionFlops !== null && linearFlops !== null ? attentionFlops + linearFlops : 0;
  const bytesPerToken = dtype ? kvBytesPerToken(preset, dtype) : null;
  const tokensHeld = window === undefined ? tokens : Math.min(tokens, window);
  return {
    tokens,
    contextWindow: preset.contextWindow,
    contextShare: tokens / preset.contextWindow,
    attentionScores,
    attentionScoresCausal,
    attentionFlops,
    linearFlops,
    attentionFlopsShare: totalFlops > 0 && attentionFlops !== null ? attentionFlops / totalFlops : null,
    quadraticCrossoverTokens: arch ? crossoverTokens(preset) : null,
    kvDtype: dtype,
    kvBytesPerToken: bytesPerToken,
    kvCacheBytes: bytesPerToken === null ? null : bytesPerToken * tokensHeld,
    price: preset.pricePerMillionInputTokens === null ? null : (tokens / 1_000_000) * preset.pricePerMillionInputTokens,
  };
}

/** n where 4·n²·d_head·heads·layers = 2·P·n, i.e. n = P / (2·d_head·heads·layers); null without architecture. */
export function crossoverTokens(preset: TargetPreset): number | null {
  const arch = preset.architecture;
  if (!arch) return null;
  const n = arch.parameters / (2 * arch.headDim * arch.attentionHeads * arch.layers);
  // With a sliding window the attention term grows linearly past W and may never catch up.
  if (arch.slidingWindow !== undefined && n > arch.slidingWindow) return null;
  return Math.round(n);
}

/**
 * The share of the quadratic attention cost that `sectionTokens` of `totalTokens` add: how much of
 * n² disappears if the section is removed, (n² − (n − s)²) / n². Architecture-free, so it works for every target.
 */
export function attentionCostShare(sectionTokens: number, totalTokens: number): number {
  if (totalTokens <= 0 || sectionTokens <= 0) return 0;
  const rest = Math.max(0, totalTokens - sectionTokens);
  return (totalTokens * totalTokens - rest * rest) / (totalTokens * totalTokens);
}

/** The number of tokens whose KV cache fits in `budgetBytes`; null when unknown or unbounded. */
export function tokensWithinKvBudget(preset: TargetPreset, budgetBytes: number, kvDtype?: KvDtype): number | null {
  const dtype = kvDtype ?? preset.kvDtype ?? 'bf16';
  const perToken = kvBytesPerToken(preset, dtype);
  if (perToken === null || budgetBytes <= 0) return null;
  const fit = Math.floor(budgetBytes / perToken);
  const window = preset.architecture?.slidingWindow;
  // A rolling cache never holds more than the window: the budget can only be crossed if the window does not fit.
  if (window !== undefined && fit >= window) return null;
  return fit;
}
