// Overview tiles: a coarse T × T picture of each head's attention, so the panel can draw the head-grid thumbnails
// and the matrix overview at any length without per-head rows (issue 27: the payload holds only per-token figures
// and overview tiles). Definition, for a layer's probabilities P [h, n, n] (queries × keys):
//   T = min(TILES, n), w = ⌈n / T⌉; row bin a holds queries [a·w, min((a+1)·w, n)), key bin b keys likewise
//   (the last non-empty bin may be partial; when T·w − n ≥ w the trailing bins are empty, e.g. n = 33: w = 2,
//   bins 17..31 hold nothing).
//   tile[h, a, b] = (1 / |bin a|) Σ_{q ∈ bin a} Σ_{k ∈ bin b} P[h, q, k], 0 where bin a is empty.
//   So each non-empty row of tiles sums to 1 (softmax rows do). The head mean tile[h] (index `heads`) is the mean
//   over heads of the per-head tiles (the tiles are linear in P, so it equals the tiles of the head mean).
// Output: [1, heads + 1, T, T]. Sums go through MatMuls with ones vectors (ReduceSum's axes moved from an attribute
// to an input at opset 13; a MatMul is the same at every opset).
import type { GraphOps } from './graphOps';

/** The tile grid's side for long inputs (fewer when n < TILES). */
export const TILES = 32;
const FLOAT = 1;

/** T, w and T·w as int64 [1], from the int64 [1] length n. */
export interface TileGrid {
  readonly side: string;
  readonly width: string;
  readonly span: string;
}

export function tileGrid(g: GraphOps, n: string): TileGrid {
  const side = g.node('Min', [n, g.ints([TILES])]);
  const width = g.node('Div', [g.node('Add', [n, g.node('Sub', [side, g.ints([1])])]), side]);
  return { side, width, span: g.node('Mul', [side, width]) };
}

/** probs [1, h, R, keys] (keys ≤ T·w) → [1, h, R, T]: each row's weight summed over each key bin, as one MatMul
 * with the [keys, T] bin indicator (1 where key k lies in bin b = ⌊k / w⌋). It reads P_b where it lies, for any
 * length: padding P to T·w keys so that it reshapes into whole bins copied it (at 2,048 tokens on the embedded
 * model, 2.2× the indicator's time, measured). */
export function keyBinSums(g: GraphOps, probs: string, keys: string, grid: TileGrid): string {
  const upTo = (count: string): string =>
    g.node('Range', [g.scalar(0), g.node('Gather', [count, g.scalar(0)], { axis: 0 }), g.scalar(1)]);
  const keyBin = g.node('Reshape', [g.node('Div', [upTo(keys), grid.width]), g.ints([-1, 1])]); // [keys, 1]
  const indicator = g.node('Equal', [keyBin, upTo(grid.side)]); // [keys, T]
  return g.node('MatMul', [probs, g.cast(indicator, FLOAT)]);
}

/** probs [1, h, R, keys] with keys a multiple of w (≤ T·w) → [1, h, R, T]: as keyBinSums, P_b only reshaped; the
 * bins past keys/w are zeros padded onto the small [1, h, R, keys / w] sums. */
export function wholeKeyBinSums(g: GraphOps, probs: string, keys: string, grid: TileGrid): string {
  const bins = g.node('Div', [keys, grid.width]);
  const binned = g.node('Reshape', [probs, g.node('Concat', [g.ints([0, 0, 0]), bins, grid.width], { axis: 0 })]);
  const ones = g.node('Expand', [g.float(1), g.node('Concat', [grid.width, g.ints([1])], { axis: 0 })]); // [w, 1]
  const sums = g.node('Reshape', [g.node('MatMul', [binned, ones]), g.ints([0, 0, 0, -1])]); // [1, h, R, keys / w]
  const pads = g.node('Concat', [g.ints([0, 0, 0, 0, 0, 0, 0]), g.node('Sub', [grid.side, bins])], { axis: 0 });
  return g.node('Pad', [sums, pads]);
}

/** keyBins [1, h, n, T] (exactly n rows) → the tiles [1, h + 1, T, T], the head mean last. */
export function tilesFromKeyBins(g: GraphOps, keyBins: string, n: string, grid: TileGrid): string {
  const pads = g.node('Concat', [g.ints([0, 0, 0, 0, 0, 0]), g.node('Sub', [grid.span, n]), g.ints([0])], { axis: 0 });
  const rows = g.node('Reshape', [
    g.node('Pad', [keyBins, pads]),
    g.node('Concat', [g.ints([1, 0]), grid.side, grid.width, grid.side], { axis: 0 }),
  ]); // [1, h, T, w, T]
  const ones = g.node('Expand', [g.float(1), g.node('Concat', [g.ints([1]), grid.width], { axis: 0 })]); // [1, w]
  const sums = g.node('Reshape', [g.node('MatMul', [ones, rows]), g.ints([0, 0, 0, -1])]); // [1, h, T, T]
  // |bin a| = clamp(n − a·w, 0, w), as [T, 1]; an empty bin's sums are 0, divided by 1.
  const a = g.node('Range', [g.scalar(0), g.node('Gather', [grid.side, g.scalar(0)], { axis: 0 }), g.scalar(1)]);
  const left = g.node('Sub', [n, g.node('Mul', [a, grid.width])]);
  const count = g.node('Max', [g.node('Min', [left, grid.width]), g.ints([1])]);
  const tiles = g.node('Div', [sums, g.cast(g.node('Reshape', [count, g.ints([-1, 1])]), FLOAT)]);
  // Head mean as a [1, h] × [h, T²] MatMul (no opset-dependent ReduceMean).
  const heads = g.node('Gather', [g.node('Shape', [tiles]), g.ints([1])], { axis: 0 });
  const weights = g.node('Div', [
    g.node('Expand', [g.float(1), g.node('Concat', [g.ints([1]), heads], { axis: 0 })]),
    g.cast(heads, FLOAT),
  ]);
  const flat = g.node('Reshape', [tiles, g.node('Concat', [heads, g.ints([-1])], { axis: 0 })]);
  const mean = g.node('Reshape', [
    g.node('MatMul', [weights, flat]),
    g.node('Concat', [g.ints([1, 1]), grid.side, grid.side], { axis: 0 }),
  ]);
  return g.node('Concat', [tiles, mean], { axis: 1 });
}
