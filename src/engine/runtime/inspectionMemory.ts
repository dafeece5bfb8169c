// What one inspection run needs in memory on top of the loaded session, and how many tokens fit.
//
// The model's own prefill holds, for the layer being computed, a few [heads, n, n] score/probability
// tensors (a Softmax export materializes them; onnxruntime's CPU GroupQueryAttention kernel holds its
// scores too) and a few [n, intermediate] MLP tensors; onnxruntime frees them layer by layer. The statistics
// add the rollout and the long-range sum ([n, n] each, kept across layers), the triangular product's blocks,
// and per layer the head mean and the compact rows. Statistics recomputed from Q and K in row blocks (above
// BLOCKS.from, siteStatsGraph.ts) hold one block's [heads, rows, n] and a few [n, hidden] tensors instead: no
// [n, n] at all, and the MLP in chunks of EXPORT_MLP_ROWS rows. Every layer's Q and K are kept in fp16 for rows
// on demand, and counted twice: at the run's end onnxruntime holds them as outputs while onnxruntime-node copies
// them. The factors were measured (peak RSS over the RSS before the run at 512 and 2,048 tokens on the embedded
// model and the 0.5B-shaped bench fixture, rounded up); the blocked terms are fitted to the 0.5B shape's peaks
// at 8,192 and 16,384 tokens (below).
import * as os from 'node:os';
import { EXPORT_MLP_ROWS } from '../graph/exportRowChunks';
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
/** Blocked: live [n, hidden] float32 tensors (the residual stream, the norm, the attention output and the tensors
 * beside them) and [chunk rows, intermediate] MLP tensors. With HEAD_BLOCKS, the kept Q and K and SLACK, fitted to
 * two measured peaks of the q4 0.5B shape with rows on demand (`bench/longctxChild.ts` inspect jobs, 2026-12-07
 * 02:31 and 02:45, busy machine): 1,026 MiB over the RSS before the run at 8,192 tokens and about 2,040 at 16,384
 * (peaks 1,586 and 2,619 MiB), of which the kept Q and K are 768 and 1,536. The estimate covers them by 18 % and
 * 11 %. */
const BLOCKED_HIDDEN_ROWS = 5;
const BLOCKED_MLP_TENSORS = 2;
/** The kept Q and K at the run's end: onnxruntime's outputs and onnxruntime-node's copies of them. */
const KEPT_COPIES = 2;
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
  const tensors = blocked
    ? 4 *
      (HEAD_BLOCKS * shape.heads * (BLOCKS.longRows ?? BLOCKS.rows) * n +
        BLOCKED_HIDDEN_ROWS * shape.hidden * n +
        BLOCKED_MLP_TENSORS * Math.min(n, EXPORT_MLP_ROWS) * intermediate)
    : 4 *
      (HEAD_SQUARES * shape.heads * n * n +
        SQUARES * n * n +
        n * (HIDDEN_ROWS * shape.hidden + INTERMEDIATE_ROWS * intermediate));
  const kept =
    shape.kvHeads !== undefined && shape.headDim !== undefined
      ? KEPT_COPIES * shape.layers * 2 * (shape.heads + shape.kvHeads) * n * shape.headDim // fp16
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
