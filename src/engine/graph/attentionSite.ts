// The seam between the graphs the engine builds itself (GGUF and safetensors decoders) and the in-graph
// attention statistics: a builder reports, per layer, where that layer's attention can be recomputed from,
// instead of the statistics having to find a Softmax in a graph afterwards. The statistics may rebuild
// softmax(scale·QKᵀ + mask) in blocks of query rows from these tensors, and rows on demand read the same Q
// and K, so the model's own attention can stay fused.

export interface AttentionSite {
  readonly layer: number;
  /** Post-rotary (and post-norm, where the architecture normalizes q) queries, float32 [1, heads, n, headDim]. */
  readonly q: string;
  /** Post-rotary keys, float32 [1, kvHeads, n, headDim], one per KV head (not expanded to the query heads). */
  readonly k: string;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** What QKᵀ is multiplied by before the mask and the softmax (1/√headDim unless the model says otherwise). */
  readonly scale: number;
  /** Keys further back than this many positions are masked (a sliding-window layer); null: full causal. */
  readonly slidingWindow: number | null;
  /** tanh soft-capping of the scores before the softmax (Gemma 2); null: none. */
  readonly softcap: number | null;
  /** Values, float32 [1, kvHeads, n, headDim]. With `context`, the statistics also make the layer's attention
   * output from the probabilities they recompute, and the fused operator that made `context` is dropped: one
   * QKᵀ and softmax per layer, not two (the engine's own graphs). */
  readonly v?: string;
  /** The fused attention's output, [1, n, heads · headDim], that the statistics then produce instead. */
  readonly context?: string;
  /** A tensor of the fused operator's own element type (its query input), when that may not be float32 (an
   * export): the statistics' float32 output is cast like it (CastLike, opset ≥ 15). */
  readonly contextLike?: string;
}
