// Reading the compact AttentionRows encodings (protocol.ts): weight = q / 255 * rowScale[row].
import type { AttentionRows } from '../../src/shared/protocol';

/** Index padding short top-k rows. */
export const TOPK_PAD = 0xffff;

/** Adds scale × row r's weights into out[at + key]. O(k). */
export function addRowInto(rows: AttentionRows, r: number, out: Float32Array, scale = 1, at = 0): void {
  const unit = (rows.rowScale[r] / 255) * scale;
  if (unit === 0) return;
  const base = r * rows.k;
  const w = rows.weights;
  if (rows.encoding === 'dense-u8') {
    for (let key = 0; key < rows.n; key++) {
      const q = w[base + key];
      if (q !== 0) out[at + key] += q * unit;
    }
    return;
  }
  const idx = requireIndices(rows);
  for (let j = 0; j < rows.k; j++) {
    const key = idx[base + j];
    if (key === TOPK_PAD) break;
    out[at + key] += w[base + j] * unit;
  }
}

/** out[at + key] = max(out[at + key], weight) over row r. O(k). */
export function maxRowInto(rows: AttentionRows, r: number, out: Float32Array, at = 0): void {
  const unit = rows.rowScale[r] / 255;
  const base = r * rows.k;
  const w = rows.weights;
  if (rows.encoding === 'dense-u8') {
    for (let key = 0; key < rows.n; key++) {
      const v = w[base + key] * unit;
      if (v > out[at + key]) out[at + key] = v;
    }
    return;
  }
  const idx = requireIndices(rows);
  for (let j = 0; j < rows.k; j++) {
    const key = idx[base + j];
    if (key === TOPK_PAD) break;
    const v = w[base + j] * unit;
    if (v > out[at + key]) out[at + key] = v;
  }
}

/** Weight of one (row, key) cell; 0 when a top-k row does not keep that key. O(k). */
export function cellWeight(rows: AttentionRows, r: number, key: number): number {
  const unit = rows.rowScale[r] / 255;
  const base = r * rows.k;
  if (rows.encoding === 'dense-u8') return rows.weights[base + key] * unit;
  const idx = requireIndices(rows);
  for (let j = 0; j < rows.k; j++) {
    const at = idx[base + j];
    if (at === TOPK_PAD) break;
    if (at === key) return rows.weights[base + j] * unit;
  }
  return 0;
}

/** Calls visit(key, weight) for each stored non-zero weight of row r. */
export function forEachInRow(rows: AttentionRows, r: number, visit: (key: number, weight: number) => void): void {
  const unit = rows.rowScale[r] / 255;
  const base = r * rows.k;
  const w = rows.weights;
  if (rows.encoding === 'dense-u8') {
    for (let key = 0; key < rows.n; key++) if (w[base + key] !== 0) visit(key, w[base + key] * unit);
    return;
  }
  const idx = requireIndices(rows);
  for (let j = 0; j < rows.k; j++) {
    const key = idx[base + j];
    if (key === TOPK_PAD) break;
    if (w[base + j] !== 0) visit(key, w[base + j] * unit);
  }
}

/**
 * Row r reweighed by a per-key factor and renormalized ("attention × value norm": factor[at + key] =
 * ‖v_key W_O^h‖), then added scale × into out[outAt + key], or maxed into it with `max`. Over the keys the row
 * keeps (all of them for dense rows, the top k otherwise). O(k).
 */
export function weightedRowInto(
  rows: AttentionRows,
  r: number,
  factor: Float32Array,
  factorAt: number,
  out: Float32Array,
  scale = 1,
  outAt = 0,
  max = false,
): void {
  let total = 0;
  forEachInRow(rows, r, (key, weight) => (total += weight * factor[factorAt + key]));
  if (!(total > 0)) return;
  const unit = scale / total;
  forEachInRow(rows, r, (key, weight) => {
    const v = weight * factor[factorAt + key] * unit;
    if (!max) out[outAt + key] += v;
    else if (v > out[outAt + key]) out[outAt + key] = v;
  });
}

function requireIndices(rows: AttentionRows): Uint16Array {
  if (!rows.indices) throw new Error('topk-u8 attention rows need indices');
  return rows.indices;
}
