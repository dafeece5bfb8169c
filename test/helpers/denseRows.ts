// Hand-written attention for the webview's unit tests: rows of weights encoded as the panel receives them
// (dense uint8 by row maximum), and two causal heads over 3 tokens whose rows sum to 1.
import type { AttentionRows } from '../../src/shared/protocol';

/** `rows` (each n weights) as dense-u8 rows scaled by each row's maximum. */
export function denseRows(n: number, rows: number[][]): AttentionRows {
  const weights = new Uint8Array(rows.length * n);
  const rowScale = new Float32Array(rows.length);
  rows.forEach((row, r) => {
    rowScale[r] = Math.max(...row);
    row.forEach((w, key) => (weights[r * n + key] = Math.round((w / rowScale[r]) * 255)));
  });
  return { encoding: 'dense-u8', rows: rows.length, n, k: n, weights, rowScale };
}

/** Head 0 and head 1 over 3 tokens. */
export const HEAD0 = [
  [1, 0, 0],
  [0.5, 0.5, 0],
  [0.2, 0.3, 0.5],
];
export const HEAD1 = [
  [1, 0, 0],
  [1, 0, 0],
  [0.6, 0.2, 0.2],
];
