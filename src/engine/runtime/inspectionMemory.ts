// What one inspection run needs in memory on top of the loaded session, and how many tokens fit.
//
// The model's own prefill holds, for the layer being computed, a few [heads, n, n] score/probability
// tensors (a Softmax export materializes them; onnxruntime's CPU GroupQueryAttention kernel holds its
// scores too) and a few [n, intermediate] MLP tensors; onnxruntime frees them layer by layer. The statistics
// add the rollout and the long-range sum ([n, n] each, kept across layers), the triangular product's blocks,
// and per layer the head mean and the compact rows. Statistics recomputed from Q and K in row blocks (above
// BLOCKS.from, siteStatsGraph.ts) hold one block's [heads, rows, n] and the long-range [n, n] terms instead,
// no rollout. Every layer's Q (fp16) and K (fp32) are kept for rows on demand. The factors were measured (peak RSS
// over the session's RSS at 512 and 2,048 tokens on the embedded model and the 0.5B-shaped bench fixture,
// rounded up); the blocked terms are fitted to the 0.5B shape's peaks at 8,192 and 16,384 tokens (below).
import * as os from 'node:os';
import { BLOCKS } from '../graph/siteStatsGraph';

export interface MemoryShape {
  readonly layers: number;
  readonly heads: number;
  readonly hidden: number;
  readonly intermediate: number | null;
  /** With Q and K kept (rows on demand): their heads and width; absent: nothing kept. */
  readonly kvHeads?: number;
  readonly headDim?: number;
  /** The statistics are recomputed from Q and K, blocked above BLOCKS.from. */
  readonly blocked?: boolean;
}

/** Live [heads, n, n] float32 tensors at the peak (scores, mask add, softmax, the statistics' reads). */
const HEAD_SQUARES = 4;
/** Live [n, n] float32 tensors: rollout, long-range sum, head mean, the product's blocks and result. */
const SQUARES = 8;
/** Blocked: live [heads, rows, n] tensors of a block (scores, masked scores, softmax), rows BLOCKS.longRows. */
const HEAD_BLOCKS = 3;
/** Blocked: what the terms below do not explain, fitted to two measured peaks of the q4 0.5B shape with rows on
 * demand (`bench/longctxChild.ts` inspect jobs, 2026-12-06 21:37 and 21:58, quiet machine, 64-row blocks and the
 * statistics making the attention output): 2,688 MiB at 8,192 tokens and 4,907 MiB at 16,384, about 900 MiB of it
 * the process before the run (3,640 and 7,017 with 256-row blocks and the fused operator beside). Both are met
 * with a margin of about 18 % by the n² term below (onnxruntime's arena between blocks) and the MLP's live tensors
 * counted as BLOCKED_INTERMEDIATE_ROWS (the export's own [n, intermediate] tensors, the activation and its
 * products, are live together). */
const BLOCKED_SQUARES = 0.9;
const BLOCKED_INTERMEDIATE_ROWS = 5;
/** Live [n, hidden] and [n, intermediate] float32 tensors in a layer. */
const HIDDEN_ROWS = 8;
const INTERMEDIATE_ROWS = 4;
/** onnxruntime's arena and the allocator's slack over the tensors themselves. */
const SLACK = 1.25;
const FIXED = 64 * 2 ** 20;

/** Bytes the tapped run adds at its peak for n tokens (the session's weights are already resident). */
export function inspectionBytes(shape: MemoryShape, n: number): number {
  const intermediate = shape.intermediate ?? 6 * shape.hidden; // Llama 2.7×, Qwen2.5 5.4×, GPT-2 4×
  const blocked = shape.blocked === true && n > BLOCKS.from;
  // Blocked, the model's own attention is fused (onnxruntime's CPU GroupQueryAttention works in tiles: +26 MiB
  // at 8,192 tokens for 4 heads, measured) and the statistics hold one block of rows.
  const attention = blocked
    ? HEAD_BLOCKS * shape.heads * (BLOCKS.longRows ?? BLOCKS.rows) * n + BLOCKED_SQUARES * n * n
    : HEAD_SQUARES * shape.heads * n * n + SQUARES * n * n;
  const rows = HIDDEN_ROWS * shape.hidden + (blocked ? BLOCKED_INTERMEDIATE_ROWS : INTERMEDIATE_ROWS) * intermediate;
  const tensors = 4 * (attention + n * rows);
  const kept =
    shape.kvHeads !== undefined && shape.headDim !== undefined
      ? shape.layers * (2 * shape.heads + 4 * shape.kvHeads) * n * shape.headDim // Q fp16, K fp32
      : 0;
  return Math.ceil(SLACK * tensors + kept + FIXED);
}

/** The most tokens whose inspection fits in `bytes`. */
export function tokensThatFit(shape: MemoryShape, bytes: number): number {
  let lo = 0;
  let hi = 1 << 20;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (inspectionBytes(shape, mid) <= bytes) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Memory the machine can give a run now: what the OS reports as available. */
export function availableBytes(): number {
  return os.freemem();
}

export const formatGiB = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
