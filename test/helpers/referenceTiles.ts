// The overview tiles (src/engine/graph/tilesGraph.ts) recomputed in float64 from the reference decoder's
// probabilities, independently of the graph: T = min(32, n), bins of w = ⌈n / T⌉ tokens,
// tile[h, a, b] = mean over the queries of row bin a of Σ over the keys of key bin b, 0 for an empty row bin;
// heads + 1 grids, the head mean last.
export function referenceTiles(probs: Float64Array, heads: number, n: number): { size: number; data: Float64Array } {
  const T = Math.min(32, n);
  const w = Math.ceil(n / T);
  const data = new Float64Array((heads + 1) * T * T);
  for (let h = 0; h < heads; h++)
    for (let q = 0; q < n; q++) {
      const a = Math.floor(q / w);
      const count = Math.min(w, n - a * w);
      for (let k = 0; k < n; k++) {
        const v = probs[h * n * n + q * n + k] / count;
        const at = a * T + Math.floor(k / w);
        data[h * T * T + at] += v;
        data[heads * T * T + at] += v / heads;
      }
    }
  return { size: T, data };
}
