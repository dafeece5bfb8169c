// Rollout rows on demand (Abnar & Zuidema 2020), from the Q and K kept after a run, for lengths where the graph
// did not compute the rollout: the rows of a set S of queries of R_l = Â_l·Â_{l−1}···Â_0, Â_j = ½M_j + ½I, M_j
// the head mean of layer j's attention. Carried from the top: V = the one-hot rows of S, then for j = l down to 0
// V ← ½(V·M_j + V). M_j is recomputed from Q_j and K_j a block of query rows at a time and multiplied in at once,
// so it is never held whole; causal attention means only rows and keys up to max(S) are ever read, and a block
// whose rows of V are all zero is skipped. Cost: about a forward pass's attention scores per layer (heads · m² · d
// / 2 multiply-adds, m = max(S) + 1), which is why the worker runs it in the background with progress per layer.
// Pure: the block products go to the injected RowKernel's `rolloutBlock` (onnxruntime, runtime/rowKernel.ts);
// the plain loops below are the reference path and the fallback. GQA groups, scale, sliding window and soft-cap
// are read from each layer as ExactRows reads them.
import { halfToFloatTable } from './halfFloat';
import type { LayerQK, RolloutBlock, RowKernel } from './exactRows';

/** Floats of one block's scores [heads, b, m] at most (32 MiB): sets the rows per block. */
const BLOCK_SCORES = 1 << 23;
const MIN_BLOCK = 8;
const MAX_BLOCK = 512;

export interface RolloutProgress {
  /** Layers multiplied in so far (of `of` = layer + 1). */
  readonly done: number;
  readonly of: number;
}

export interface RolloutOptions {
  /** Checked between blocks: true stops the work (the result is then null). */
  readonly isCancelled?: () => boolean;
  readonly onProgress?: (progress: RolloutProgress) => void;
  /** Query rows per block (tests: to cross block edges at small lengths); by default sized to the scores. */
  readonly blockRows?: number;
}

/** Rows of the rollout up to `layer` for `queries` (any order, no duplicates), each [n] (zero after its query);
 * null if cancelled. Throws a RangeError for a layer or query outside the inspection. */
export async function rolloutRows(
  n: number,
  layers: readonly LayerQK[],
  layer: number,
  queries: readonly number[],
  kernel: RowKernel | null,
  options: RolloutOptions = {},
): Promise<Float32Array[] | null> {
  if (!Number.isInteger(layer) || layer < 0 || layer >= layers.length) throw new RangeError(`no layer ${layer}`);
  for (const q of queries) if (!Number.isInteger(q) || q < 0 || q >= n) throw new RangeError(`no token ${q}`);
  if (new Set(queries).size !== queries.length) throw new RangeError('a query is asked twice');
  const s = queries.length;
  if (s === 0) return [];
  const m = Math.max(...queries) + 1;
  const block: RolloutBlock = kernel?.rolloutBlock ? kernel.rolloutBlock.bind(kernel) : plainRolloutBlock;
  // V [s, m]: float64 between layers, float32 for the products.
  let v = new Float64Array(s * m);
  queries.forEach((q, i) => (v[i * m + q] = 1));
  for (let j = layer; j >= 0; j--) {
    const l = layers[j];
    const next = v.map((x) => 0.5 * x);
    const keys = decodedKeys(l, n, m);
    const rows =
      options.blockRows ?? Math.max(MIN_BLOCK, Math.min(MAX_BLOCK, Math.floor(BLOCK_SCORES / (l.heads * m))));
    // One block in flight: the next block's inputs are made and the last one's product added while it runs.
    let inFlight: { product: Promise<Float32Array>; r1: number } | null = null;
    const add = (product: Float32Array, r1: number): void => {
      for (let i = 0; i < s; i++) {
        const at = i * m;
        const from = i * r1;
        for (let c = 0; c < r1; c++) next[at + c] += product[from + c];
      }
    };
    for (let r0 = 0; r0 < m; r0 += rows) {
      if (options.isCancelled?.()) {
        await inFlight?.product;
        return null;
      }
      const r1 = Math.min(m, r0 + rows);
      const b = r1 - r0;
      // ½V for this block's rows: the product is then ½·V·M directly.
      const vBlock = new Float32Array(s * b);
      let any = false;
      for (let i = 0; i < s; i++)
        for (let c = 0; c < b; c++) {
          const x = v[i * m + r0 + c];
          vBlock[i * b + c] = 0.5 * x;
          if (x !== 0) any = true;
        }
      if (!any) continue;
      const inputs = [queryBlock(l, n, r0, b), keysUpTo(keys, l, m, r1), blockMask(l, r0, r1)] as const;
      const done: Float32Array | null = inFlight ? await inFlight.product : null;
      const doneR1 = inFlight?.r1 ?? 0;
      inFlight = { product: block(l, inputs[0], [l.kvHeads, l.heads / l.kvHeads], inputs[1], inputs[2], vBlock), r1 };
      if (done) add(done, doneR1);
    }
    if (inFlight) add(await inFlight.product, inFlight.r1);
    v = next;
    options.onProgress?.({ done: layer - j + 1, of: layer + 1 });
  }
  return queries.map((_, i) => {
    const row = new Float32Array(n);
    for (let c = 0; c < m; c++) row[c] = v[i * m + c];
    return row;
  });
}

function toFloat32(data: Uint16Array | Float32Array, from: number, length: number, out: Float32Array, at: number) {
  if (data instanceof Float32Array) {
    out.set(data.subarray(from, from + length), at);
    return;
  }
  const table = halfToFloatTable();
  for (let i = 0; i < length; i++) out[at + i] = table[data[from + i]];
}

/** The layer's keys 0..m−1, float32 [kv, m, d]. */
function decodedKeys(l: LayerQK, n: number, m: number): Float32Array {
  const d = l.headDim;
  if (m === n && l.k instanceof Float32Array) return l.k;
  const out = new Float32Array(l.kvHeads * m * d);
  for (let kv = 0; kv < l.kvHeads; kv++) toFloat32(l.k, kv * n * d, m * d, out, kv * m * d);
  return out;
}

/** Keys 0..r1−1 of [kv, m, d] as [kv, r1, d] (a view with one KV head). */
function keysUpTo(keys: Float32Array, l: LayerQK, m: number, r1: number): Float32Array {
  const d = l.headDim;
  if (l.kvHeads === 1) return keys.subarray(0, r1 * d);
  const out = new Float32Array(l.kvHeads * r1 * d);
  for (let kv = 0; kv < l.kvHeads; kv++) out.set(keys.subarray(kv * m * d, (kv * m + r1) * d), kv * r1 * d);
  return out;
}

/** Query rows r0..r0+b−1 of every head, [heads, b, d]. */
function queryBlock(l: LayerQK, n: number, r0: number, b: number): Float32Array {
  const d = l.headDim;
  const out = new Float32Array(l.heads * b * d);
  for (let h = 0; h < l.heads; h++) toFloat32(l.q, (h * n + r0) * d, b * d, out, h * b * d);
  return out;
}

/** 0 where row r0+i attends key j (j ≤ its row, within the sliding window), −∞ elsewhere; [b, r1]. */
function blockMask(l: LayerQK, r0: number, r1: number): Float32Array {
  const b = r1 - r0;
  const mask = new Float32Array(b * r1).fill(-Infinity);
  for (let i = 0; i < b; i++) {
    const row = r0 + i;
    const first = l.slidingWindow === null ? 0 : Math.max(0, row - l.slidingWindow + 1);
    mask.fill(0, i * r1 + first, i * r1 + row + 1);
  }
  return mask;
}

/** The block product in plain loops (the reference path, and where no kernel is at hand). */
export const plainRolloutBlock: RolloutBlock = (shape, q, [kv, group], keys, mask, v) => {
  const d = shape.headDim;
  const heads = kv * group;
  const r1 = keys.length / (kv * d);
  const b = mask.length / r1;
  const s = v.length / b;
  const mean = new Float64Array(b * r1);
  const scores = new Float64Array(r1);
  for (let h = 0; h < heads; h++) {
    const k = Math.floor(h / group);
    for (let i = 0; i < b; i++) {
      let max = -Infinity;
      for (let j = 0; j < r1; j++) {
        if (mask[i * r1 + j] === -Infinity) {
          scores[j] = -Infinity;
          continue;
        }
        let dot = 0;
        for (let c = 0; c < d; c++) dot += q[(h * b + i) * d + c] * keys[(k * r1 + j) * d + c];
        let x = dot * shape.scale;
        if (shape.softcap !== null) x = shape.softcap * Math.tanh(x / shape.softcap);
        scores[j] = x + mask[i * r1 + j];
        if (scores[j] > max) max = scores[j];
      }
      let sum = 0;
      for (let j = 0; j < r1; j++) sum += scores[j] = Math.exp(scores[j] - max);
      for (let j = 0; j < r1; j++) mean[i * r1 + j] += scores[j] / sum / heads;
    }
  }
  const out = new Float32Array(s * r1);
  for (let x = 0; x < s; x++)
    for (let i = 0; i < b; i++) {
      const w = v[x * b + i];
      if (w !== 0) for (let j = 0; j < r1; j++) out[x * r1 + j] += w * mean[i * r1 + j];
    }
  return Promise.resolve(out);
};
