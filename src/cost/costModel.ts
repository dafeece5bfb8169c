// The cost of n prompt tokens on a target model: pure arithmetic, no I/O.
//
// Conventions (one forward pass over the prompt, batch 1):
// - attention scores: query·key dot products, n² per query head per layer for the full matrix, and the
//   causal (lower-triangle) count n(n+1)/2. With a sliding window W each query sees at most W keys; models
//   that interleave local and global layers (Gemma 3, gpt-oss) apply the window only on their local layers.
// - attention FLOPs: QKᵀ takes n_q·n_k·d_qk and A·V n_q·n_k·d_v multiply-adds per head, i.e.
//   2·n_q·n_k·(d_qk + d_v) FLOPs, which is 4·n²·d_head when d_qk = d_v (softmax and masking are not counted).
// - dense (linear) FLOPs: ≈ 2 × parameters × n (one multiply-add per weight per token, embeddings included);
//   a mixture-of-experts model counts the parameters active per token.
// - KV cache: 2 (K and V) × KV heads × head dim × bytes per element, per layer and token held (GQA-aware);
//   multi-head latent attention (DeepSeek-V3) holds one latent of kv_lora_rank plus one rotary key of
//   qk_rope_head_dim per layer and token instead. A windowed layer holds at most W tokens.
import type { CostSummaryFigures } from '../shared/protocol';
import { KV_DTYPE_BYTES, type Architecture, type KvDtype, type PriceTier, type TargetPreset } from './presets';

/** The summary's figures (context share, attention scores and FLOPs, dense FLOPs, KV cache, price) and more. */
export interface CostFigures extends CostSummaryFigures {
  /** Tokens the model reads: the prompt's plus the chat framing's. */
  readonly tokens: number;
  readonly promptTokens: number;
  /** Tokens the chat format adds around one user message (0 where none is known). */
  readonly chatOverheadTokens: number;
  /** attentionFlops / (attentionFlops + linearFlops). */
  readonly attentionFlopsShare: number | null;
  /** The prompt length where attention FLOPs equal the dense FLOPs. */
  readonly quadraticCrossoverTokens: number | null;
  readonly kvDtype: KvDtype | null;
  /** Bytes one token adds while every layer still holds it. */
  readonly kvBytesPerToken: number | null;
  /** The input price that applies to this prompt length; null without a price. */
  readonly priceTier: PriceTierChoice | null;
}

export interface PriceTierChoice {
  readonly pricePerMillionInputTokens: number;
  /** Above this many tokens (null: the base tier). */
  readonly aboveTokens: number | null;
  /** Whether the preset has tiers at all. */
  readonly tiered: boolean;
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

/** Layers with the window and layers without it. */
export function layerSplit(arch: Architecture): { readonly windowed: number; readonly global: number } {
  const windowed = arch.slidingWindow === undefined ? 0 : (arch.slidingWindowLayers ?? arch.layers);
  return { windowed, global: arch.layers - windowed };
}

/** KV-cache bytes one layer holds per token. */
function kvBytesPerLayerToken(arch: Architecture, dtype: KvDtype): number {
  const elements = arch.mla ? arch.mla.kvLoraRank + arch.mla.qkRopeHeadDim : 2 * arch.kvHeads * arch.headDim;
  return elements * KV_DTYPE_BYTES[dtype];
}

export function kvBytesPerToken(preset: TargetPreset, dtype: KvDtype): number | null {
  const arch = preset.architecture;
  if (!arch) return null;
  return arch.layers * kvBytesPerLayerToken(arch, dtype);
}

/** The KV cache after `tokens` tokens: windowed layers hold at most W of them. */
export function kvCacheBytes(arch: Architecture, tokens: number, dtype: KvDtype): number {
  const { windowed, global } = layerSplit(arch);
  const held = global * tokens + (windowed > 0 ? windowed * Math.min(tokens, arch.slidingWindow ?? tokens) : 0);
  return kvBytesPerLayerToken(arch, dtype) * held;
}

function headDims(arch: Architecture): number {
  return arch.headDim + (arch.mla ? arch.mla.valueHeadDim : arch.headDim);
}

function scores(arch: Architecture, n: number, count: (n: number, window?: number) => number): number {
  const { windowed, global } = layerSplit(arch);
  return arch.attentionHeads * (global * count(n) + (windowed > 0 ? windowed * count(n, arch.slidingWindow) : 0));
}

function attentionFlopsAt(arch: Architecture, n: number): number {
  return 2 * headDims(arch) * scores(arch, n, fullScores);
}

function linearFlopsAt(arch: Architecture, n: number): number {
  return 2 * (arch.activeParameters ?? arch.parameters) * n;
}

/** The tier whose threshold the whole prompt passes (providers bill the whole prompt at that rate). */
export function priceTierFor(preset: TargetPreset, tokens: number): PriceTierChoice | null {
  if (preset.pricePerMillionInputTokens === null) return null;
  let tier: PriceTier | undefined;
  for (const candidate of preset.priceTiers) if (tokens > candidate.aboveTokens) tier = candidate;
  return {
    pricePerMillionInputTokens: tier?.pricePerMillionInputTokens ?? preset.pricePerMillionInputTokens,
    aboveTokens: tier?.aboveTokens ?? null,
    tiered: preset.priceTiers.length > 0,
  };
}

/**
 * Figures for `promptTokens` prompt tokens plus `chatOverheadTokens` of chat framing; `kvDtype` overrides the
 * preset's default.
 */
export function computeCost(
  preset: TargetPreset,
  promptTokens: number,
  kvDtype?: KvDtype,
  chatOverheadTokens = 0,
): CostFigures {
  const tokens = promptTokens + chatOverheadTokens;
  const arch = preset.architecture;
  const dtype = arch ? (kvDtype ?? preset.kvDtype ?? 'bf16') : null;
  const attentionScores = arch ? scores(arch, tokens, fullScores) : null;
  const attentionScoresCausal = arch ? scores(arch, tokens, causalScores) : null;
  const attentionFlops = arch ? attentionFlopsAt(arch, tokens) : null;
  const linearFlops = arch ? linearFlopsAt(arch, tokens) : null;
  const totalFlops = attentionFlops !== null && linearFlops !== null ? attentionFlops + linearFlops : 0;
  const tier = priceTierFor(preset, tokens);
  return {
    tokens,
    promptTokens,
    chatOverheadTokens,
    contextWindow: preset.contextWindow,
    contextShare: tokens / preset.contextWindow,
    attentionScores,
    attentionScoresCausal,
    attentionFlops,
    linearFlops,
    attentionFlopsShare: totalFlops > 0 && attentionFlops !== null ? attentionFlops / totalFlops : null,
    quadraticCrossoverTokens: arch ? crossoverTokens(preset) : null,
    kvDtype: dtype,
    kvBytesPerToken: dtype ? kvBytesPerToken(preset, dtype) : null,
    kvCacheBytes: arch && dtype ? kvCacheBytes(arch, tokens, dtype) : null,
    price: tier === null ? null : (tokens / 1_000_000) * tier.pricePerMillionInputTokens,
    priceTier: tier,
  };
}

const CROSSOVER_SEARCH_LIMIT = 1e10;

/**
 * The prompt length where the attention FLOPs reach the dense FLOPs: n = P / ((d_qk + d_v)·heads·layers)
 * without a window. With windowed layers the attention term grows more slowly, found by bisection, and
 * may never catch up (null). null without architecture.
 */
export function crossoverTokens(preset: TargetPreset): number | null {
  const arch = preset.architecture;
  if (!arch) return null;
  if (arch.slidingWindow === undefined) {
    return Math.round(
      (arch.activeParameters ?? arch.parameters) / (headDims(arch) * arch.attentionHeads * arch.layers),
    );
  }
  const reached = (n: number) => attentionFlopsAt(arch, n) >= linearFlopsAt(arch, n);
  if (!reached(CROSSOVER_SEARCH_LIMIT)) return null;
  let low = 1;
  let high = CROSSOVER_SEARCH_LIMIT;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (reached(mid)) high = mid;
    else low = mid;
  }
  return high;
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

/**
 * The share of the causal attention work (query i sees keys 0..i) done by the `tokens` queries that follow
 * `before` others, of `total`: Σ (i + 1) over its positions, over n(n + 1)/2. Shares of consecutive sections that
 * cover the prompt add up to 1.
 */
export function causalWorkShare(before: number, tokens: number, total: number): number {
  if (total <= 0 || tokens <= 0) return 0;
  const after = before + tokens;
  return (after * (after + 1) - before * (before + 1)) / (total * (total + 1));
}

/** The number of tokens whose KV cache fits in `budgetBytes`; null when unknown or unbounded. */
export function tokensWithinKvBudget(preset: TargetPreset, budgetBytes: number, kvDtype?: KvDtype): number | null {
  const arch = preset.architecture;
  if (!arch || budgetBytes <= 0) return null;
  const perLayer = kvBytesPerLayerToken(arch, kvDtype ?? preset.kvDtype ?? 'bf16');
  const { windowed, global } = layerSplit(arch);
  const fitAll = Math.floor(budgetBytes / (perLayer * arch.layers));
  if (windowed === 0 || arch.slidingWindow === undefined || fitAll < arch.slidingWindow) return fitAll;
  // Past the window only the global layers grow; a cache of windowed layers alone never crosses the budget.
  if (global === 0) return null;
  const atWindow = perLayer * arch.layers * arch.slidingWindow;
  return arch.slidingWindow + Math.floor((budgetBytes - atWindow) / (perLayer * global));
}
