// Compact attention rows for the trip out of the worker (protocol.ts AttentionRows).
//
// Choice: weights are uint8, scaled by each row's maximum (rowScale), so every row keeps its own full
// 8-bit resolution where it matters (its strongest keys): the quantization error is ≤ rowMax/510.
// - n ≤ 512: 'dense-u8', k = n. At 512 tokens, 8 heads: 2 MiB per layer.
// - n > 512: 'topk-u8', the k strongest keys per row (strongest first) with uint16 indices. k is 64 when
//   the whole payload fits TOPK_BUDGET_BYTES, and shrinks (down to 16) for models with many layers × heads:
//   at 2,048 tokens the default model (4 layers × 8 heads) sends 4 × 9 × 2048 × 64 × 3 B ≈ 14 MiB.
//   What is dropped is the long tail that an 8-bit, max-scaled row would mostly round to 0 anyway.
import type { AttentionRows } from '../../shared/protocol';

export const DENSE_LIMIT = 512;
export const MAX_TOPK = 64;
export const MIN_TOPK = 16;
export const TOPK_BUDGET_BYTES = 48 * 1024 * 1024;
const PAD = 0xffff;

/** k for top-k rows: the largest in [MIN_TOPK, MAX_TOPK] that keeps layers × (heads + 1) × n rows in budget. */
export function chooseTopK(n: number, layers: number, heads: number): number {
  const rows = layers * (heads + 1) * n;
  const k = Math.floor(TOPK_BUDGET_BYTES / (rows * 3));
  return Math.max(MIN_TOPK, Math.min(MAX_TOPK, k, n));
}

/**
 * Encodes `rows` rows of length n; dense when n ≤ DENSE_LIMIT, else top-k. With `causal`, row r (query
 * r mod n) is read only up to its query: later keys are masked to exactly 0, which halves the work.
 */
export function encodeRows(data: Float32Array, rows: number, n: number, topK: number, causal = false): AttentionRows {
  return n <= DENSE_LIMIT ? encodeDense(data, rows, n, causal) : encodeTopK(data, rows, n, topK, causal);
}

/** True when the first query of every head attends only to itself (the future is masked). */
export function isCausal(data: Float32Array, rows: number, n: number): boolean {
  for (let r = 0; r < rows; r += n) for (let j = 1; j < n; j++) if (data[r * n + j] !== 0) return false;
  return true;
}

export function encodeDense(data: Float32Array, rows: number, n: number, causal = false): AttentionRows {
  const weights = new Uint8Array(rows * n);
  const rowScale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    const length = causal ? (r % n) + 1 : n;
    let max = 0;
    for (let j = 0; j < length; j++) {
      const v = data[base + j];
      if (v > max) max = v;
    }
    rowScale[r] = max;
    if (max <= 0) continue;
    const scale = 255 / max;
    // (x + 0.5) | 0 rounds non-negative values; x ≤ 255 by construction.
    for (let j = 0; j < length; j++) weights[base + j] = (data[base + j] * scale + 0.5) | 0;
  }
  return { encoding: 'dense-u8', rows, n, k: n, weights, rowScale };
}

export function encodeTopK(data: Float32Array, rows: number, n: number, k: number, causal = false): AttentionRows {
  const weights = new Uint8Array(rows * k);
  const indices = new Uint16Array(rows * k).fill(PAD);
  const rowScale = new Float32Array(rows);
  const candidates = new Uint16Array(n);
  const values = new Float32Array(n);
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    // Collect nonzero keys (a causal row q has at most q + 1), then keep the k largest.
    let count = 0;
    const length = causal ? (r % n) + 1 : n;
    for (let j = 0; j < length; j++) {
      const w = data[base + j];
      if (w > 0) {
        candidates[count] = j;
        values[count++] = w;
      }
    }
    const keep = Math.min(k, count);
    if (count > k) partialSelect(candidates, values, count, k);
    // Sort the kept ones strongest first (insertion sort: k is small).
    for (let a = 1; a < keep; a++) {
      const v = values[a];
      const c = candidates[a];
      let b = a - 1;
      while (b >= 0 && values[b] < v) {
        values[b + 1] = values[b];
        candidates[b + 1] = candidates[b];
        b--;
      }
      values[b + 1] = v;
      candidates[b + 1] = c;
    }
    const max = keep > 0 ? values[0] : 0;
    rowScale[r] = max;
    const scale = max > 0 ? 255 / max : 0;
    const out = r * k;
    for (let j = 0; j < keep; j++) {
      indices[out + j] = candidates[j];
      weights[out + j] = (values[j] * scale + 0.5) | 0;
    }
  }
  return { encoding: 'topk-u8', rows, n, k, weights, rowScale, indices };
}

/** Quickselect: moves the k largest values (and their keys) to the front, unordered. */
function partialSelect(keys: Uint16Array, values: Float32Array, count: number, k: number): void {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] > pivot) i++;
      while (values[j] < pivot) j--;
      if (i <= j) {
        const v = values[i];
        values[i] = values[j];
        values[j] = v;
        const c = keys[i];
        keys[i] = keys[j];
        keys[j] = c;
        i++;
        j--;
      }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else return;
  }
}

/** Decodes one weight back to a probability (for tests and the CLI's --dense output). */
export function decodeRow(rows: AttentionRows, r: number): Float32Array {
  const out = new Float32Array(rows.n);
  const scale = rows.rowScale[r] / 255;
  for (let j = 0; j < rows.k; j++) {
    const w = rows.weights[r * rows.k + j];
    if (rows.encoding === 'dense-u8') out[j] = w * scale;
    else {
      const key = rows.indices?.[r * rows.k + j] ?? PAD;
      if (key !== PAD) out[key] = w * scale;
    }
  }
  return out;
}
