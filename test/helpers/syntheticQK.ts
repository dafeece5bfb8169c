// Random post-rotary Q and K per layer (the kept tensors rows on demand read) and their attention probabilities
// recomputed in float64 from the definition (scale, soft-cap, sliding window, causal softmax), for the tests of
// the rows and rollout rows computed from kept Q and K. fp16 storage rounds the same values, and the float64
// probabilities always come from the unrounded ones, so a test bounds the storage's error too.
import type { LayerQK } from '../../src/engine/analysis/exactRows';
import { seededRandom } from '../../src/shared/seededRandom';
import { toHalfBits } from './referenceDecoder';

export interface QKShape {
  readonly n: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly slidingWindow: number | null;
  readonly softcap: number | null;
}

export interface SyntheticLayer {
  /** As kept (fp16 bits or float32). */
  readonly kept: LayerQK;
  /** Float64 probabilities [heads, n, n] from the float32 values. */
  readonly probs: Float64Array;
}

export function syntheticLayer(shape: QKShape, seed: number, half: boolean): SyntheticLayer {
  const { n, heads, kvHeads, headDim: d } = shape;
  const random = seededRandom(seed);
  // Scores of a few units, so the softmax is far from flat (and a cap bites).
  const q = Float32Array.from({ length: heads * n * d }, () => (random() * 2 - 1) * 1.5);
  const k = Float32Array.from({ length: kvHeads * n * d }, () => (random() * 2 - 1) * 1.5);
  const scale = 1 / Math.sqrt(d);
  const probs = new Float64Array(heads * n * n);
  const group = heads / kvHeads;
  for (let h = 0; h < heads; h++) {
    const kv = Math.floor(h / group);
    for (let i = 0; i < n; i++) {
      const first = shape.slidingWindow === null ? 0 : Math.max(0, i - shape.slidingWindow + 1);
      const row = probs.subarray((h * n + i) * n, (h * n + i + 1) * n);
      let max = -Infinity;
      for (let j = first; j <= i; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += q[(h * n + i) * d + c] * k[(kv * n + j) * d + c];
        s *= scale;
        if (shape.softcap !== null) s = shape.softcap * Math.tanh(s / shape.softcap);
        row[j] = s;
        max = Math.max(max, s);
      }
      let sum = 0;
      for (let j = first; j <= i; j++) sum += row[j] = Math.exp(row[j] - max);
      for (let j = first; j <= i; j++) row[j] /= sum;
    }
  }
  const kept: LayerQK = {
    q: half ? Uint16Array.from(q, toHalfBits) : q,
    k: half ? Uint16Array.from(k, toHalfBits) : k,
    heads,
    kvHeads,
    headDim: d,
    scale,
    slidingWindow: shape.slidingWindow,
    softcap: shape.softcap,
  };
  return { kept, probs };
}
