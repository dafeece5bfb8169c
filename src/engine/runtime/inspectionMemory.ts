// What one inspection run needs in memory on top of the loaded session, and how many tokens fit.
//
// The model's own prefill holds, for the layer being computed, a few [heads, n, n] score/probability
// tensors and a few [n, intermediate] MLP tensors; onnxruntime frees them layer by layer. The statistics
// graph adds the rollout and the long-range sum ([n, n] each, kept across layers), the triangular product's
// blocks, and per layer the head mean and a top-k pass over the probabilities. Nothing is held per layer
// (the compact rows are ≤ 1/8 of one layer's probabilities). The factors are measured: peak RSS over the
// session's RSS at 512 and 2,048 tokens on the embedded model and the 0.5B-shaped bench fixture
// (bench/realSizeBench.ts), rounded up.
import * as os from 'node:os';

export interface MemoryShape {
  readonly layers: number;
  readonly heads: number;
  readonly hidden: number;
  readonly intermediate: number | null;
}

/** Live [heads, n, n] float32 tensors at the peak (scores, mask add, softmax, the statistics' reads). */
const HEAD_SQUARES = 4;
/** Live [n, n] float32 tensors: rollout, long-range sum, head mean, the product's blocks and result. */
const SQUARES = 8;
/** Live [n, hidden] and [n, intermediate] float32 tensors in a layer. */
const HIDDEN_ROWS = 8;
const INTERMEDIATE_ROWS = 4;
/** onnxruntime's arena and the allocator's slack over the tensors themselves. */
const SLACK = 1.25;
const FIXED = 64 * 2 ** 20;

/** Bytes the tapped run adds at its peak for n tokens (the session's weights are already resident). */
export function inspectionBytes(shape: MemoryShape, n: number): number {
  const intermediate = shape.intermediate ?? 6 * shape.hidden; // Llama 2.7×, Qwen2.5 5.4×, GPT-2 4×
  const tensors =
    4 *
    (HEAD_SQUARES * shape.heads * n * n +
      SQUARES * n * n +
      n * (HIDDEN_ROWS * shape.hidden + INTERMEDIATE_ROWS * intermediate));
  return Math.ceil(SLACK * tensors + FIXED);
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
