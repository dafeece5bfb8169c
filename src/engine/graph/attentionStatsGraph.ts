// Appends the inspection's statistics to the tapped graph, so onnxruntime computes them in the same run and
// only compact results leave it (no per-head [n, n] tensor is fetched unless the caller asks for the raw
// probabilities). Per layer l, with P_l the layer's probabilities [.., heads, n, n]:
//   M_l        = mean over heads of P_l, as a [1, h] × [h, n²] MatMul (ReduceMean over a middle axis takes a
//                slow strided path in onnxruntime)                                          [1, n, n]
//   received_l = mean over queries of M_l (a ones-vector MatMul)                            [1, 1, n]
//   rollout (Abnar & Zuidema 2020): Â_l = ½M_l + ½I, R_0 = Â_0, R_l = Â_l·R_{l−1} = ½(M_l·R_{l−1} + R_{l−1}),
//                the product blocked as lower-triangular (triangularMatMul.ts). Rows of Â sum to 1 (softmax
//                rows do), so no renormalization. R_l stays in the graph; only its compact rows leave it.
//   head-role inputs (headScoreGraph.ts), and the compact rows of attentionEncoding.ts for P_l and R_l.
// Across layers: the sum of M_l over the last ⌈layers/2⌉ layers, what the long-range pairs read (drivers.ts).
//
// Compact rows: one If on n, built once, decides the form for every layer (the engine reads the form back
// from the outputs: empty keys mean dense): for n ≤ DENSE_LIMIT uint8 by row maximum (QuantizeLinear, which
// rounds half to even) and the row maxima; else the top-k (uint8 weights, uint16 keys with 0xffff padding,
// the row maxima; k from the runtime shape exactly like chooseTopK). onnxruntime runs every node of a graph
// whatever is fetched, so the If is what keeps the unused form from costing anything.
// onnxruntime would run every statistics node after the model's last layer (seen in its profile), keeping
// every layer's [heads, n, n] probabilities alive until then (L × H × n² × 4 bytes). So layer l + 1's
// attention waits for layer l's statistics: its query input is reshaped to its own shape plus 0 × a dim of
// each of layer l's outputs (exact, for any dtype: only shapes are read).
// Causal attention is assumed (as the rollout's triangular product does): top-k runs on row blocks, block b
// reading only the keys up to its last query, which skips the masked upper triangle (~3/8 of TopK's work).
import { DENSE_LIMIT, MAX_TOPK, MIN_TOPK, TOPK_BUDGET_BYTES } from '../analysis/attentionEncoding';
import type { ModelProto, NodeProto } from './onnxGraph';
import { producersOf } from './onnxGraph';
import type { GraphOps } from './graphOps';
import { graphOps } from './graphOps';
import { appendHeadScoreTaps } from './headScoreGraph';
import { lowerTriangularProduct } from './triangularMatMul';

/** Compact rows as graph outputs: weights u8 [.., rows, k], keys u16 [.., rows, k] (empty when dense), scale [rows]. */
export interface CompactRowsOutputs {
  readonly weights: string;
  readonly keys: string;
  readonly scale: string;
}

export interface LayerStatsOutputs {
  readonly heads: CompactRowsOutputs;
  readonly rollout: CompactRowsOutputs;
  readonly received: string;
  /** headScoreGraph.ts: per-query bands and sampled rows' entropies, what the head-role scores read. */
  readonly bands: string;
  readonly entropy: string;
}

export interface StatsOutputs {
  readonly layers: readonly LayerStatsOutputs[];
  /** Σ M_l over layers ≥ longRangeFrom, [1, n, n]. */
  readonly longRange: string;
  readonly longRangeFrom: number;
}

/** Block levels for the M_l·R_{l−1} product (≈1/3 of a dense MatMul's FLOPs); see triangularMatMul.ts. */
const TRIANGULAR_DEPTH = 3;
/** Row blocks for top-k: block b of B reads keys [0, (b+1)·n/B), (B+1)/2B of the full row work. */
const TOPK_ROW_BLOCKS = 4;
const END = 2 ** 62;
const FLOAT = 1;
const UINT8 = 2;
const UINT16 = 4;

const lastDim = (g: GraphOps, t: string): string => g.node('Slice', [g.node('Shape', [t]), g.ints([-1]), g.ints([END])]); // [n]
const headsDim = (g: GraphOps, t: string): string => g.node('Slice', [g.node('Shape', [t]), g.ints([-3]), g.ints([-2])]); // [h]

/** k = min(n, clamp(⌊BUDGET / (3 · layers · (heads + 1) · n)⌋, MIN_TOPK, MAX_TOPK)), as chooseTopK. */
function topkSize(g: GraphOps, probs: string, layers: number): string {
  const n = lastDim(g, probs);
  const rowsBytes = g.node('Mul', [g.node('Mul', [n, g.node('Add', [headsDim(g, probs), g.ints([1])])]), g.ints([3 * layers])]);
  const budget = g.node('Div', [g.ints([TOPK_BUDGET_BYTES]), rowsBytes]);
  return g.node('Min', [g.node('Min', [g.node('Max', [budget, g.ints([MIN_TOPK])]), g.ints([MAX_TOPK])]), n]);
}

/** uint8 = round(p / rowMax · 255) in one pass: QuantizeLinear with a per-row scale on the rows viewed as [rows, n]. */
function denseRows(g: GraphOps, probs: string): string[] {
  const tiny = g.float(1e-30); // rowMax ≥ tiny so an all-zero row stays 0
  const max = g.reduceMax(probs, -1, true);
  let weights: string;
  if (g.opset >= 13) {
    const scale = g.node('Div', [g.node('Reshape', [g.node('Max', [max, tiny]), g.ints([-1])]), g.float(255)]);
    const zeroPoint = g.cast(g.node('Mul', [scale, g.float(0)]), UINT8);
    const rows = g.node('Reshape', [probs, g.node('Concat', [g.ints([-1]), lastDim(g, probs)], { axis: 0 })]);
    weights = g.node('QuantizeLinear', [rows, scale, zeroPoint], { axis: 0 });
  } else {
    weights = g.cast(g.node('Add', [g.node('Mul', [g.node('Div', [probs, g.node('Max', [max, tiny])]), g.float(255)]), g.float(0.5)]), UINT8);
  }
  return [weights, g.cast(g.ints([]), UINT16), max];
}

/** The k strongest keys per row, strongest first; keys with weight 0 (a short causal row) become the 0xffff pad. */
function topkRows(g: GraphOps, probs: string, k: string): string[] {
  const n = lastDim(g, probs);
  const values: string[] = [];
  const indices: string[] = [];
  let start = g.ints([0]);
  for (let b = 1; b <= TOPK_ROW_BLOCKS; b++) {
    const end = b === TOPK_ROW_BLOCKS ? n : g.node('Div', [g.node('Mul', [n, g.ints([b])]), g.ints([TOPK_ROW_BLOCKS])]);
    const block = g.node('Slice', [probs, g.node('Concat', [start, g.ints([0])], { axis: 0 }), g.node('Concat', [end, end], { axis: 0 }), g.ints([-2, -1])]);
    const [v, i] = g.multi('TopK', [block, k], 2, { axis: -1 });
    values.push(v);
    indices.push(i);
    start = end;
  }
  const value = g.node('Concat', values, { axis: -2 });
  const index = g.node('Concat', indices, { axis: -2 });
  const strongest = g.node('Slice', [value, g.ints([0]), g.ints([1]), g.ints([-1])]);
  const scaled = g.node('Add', [g.node('Mul', [g.node('Div', [value, g.node('Max', [strongest, g.float(1e-30)])]), g.float(255)]), g.float(0.5)]);
  const keys = g.cast(g.node('Where', [g.node('Equal', [value, g.float(0)]), g.ints([0xffff]), index]), UINT16);
  return [g.cast(scaled, UINT8), keys, strongest];
}

function compactRows(g: GraphOps, probs: string, long: string, k: string): CompactRowsOutputs {
  const [weights, keys, scale] = g.ifElse(long, () => topkRows(g, probs, k), () => denseRows(g, probs));
  return { weights, keys, scale };
}

function meanOverHeads(g: GraphOps, probs: string): string {
  const shape = g.node('Shape', [probs]);
  const heads = headsDim(g, probs);
  const weights = g.node('Div', [g.node('Expand', [g.float(1), g.node('Concat', [g.ints([1]), heads], { axis: 0 })]), g.cast(heads, FLOAT)]); // [1, h] of 1/h
  const flat = g.node('Reshape', [probs, g.node('Concat', [heads, g.ints([-1])], { axis: 0 })]); // [h, n²]; batch is 1
  const square = g.node('Concat', [g.ints([1]), g.node('Slice', [shape, g.ints([-2]), g.ints([END])])], { axis: 0 });
  return g.node('Reshape', [g.node('MatMul', [weights, flat]), square]); // [1, n, n]
}

/** Mean over queries as a [1, n] × [1, n, n] MatMul (a strided ReduceMean over axis −2 is slow). */
function meanOverQueries(g: GraphOps, mean: string): string {
  const n = lastDim(g, mean);
  const ones = g.node('Expand', [g.float(1), g.node('Concat', [g.ints([1]), n], { axis: 0 })]);
  return g.node('Div', [g.node('MatMul', [ones, mean]), g.cast(n, FLOAT)]);
}

/** The MatMul nearest upstream of the Softmax that makes `tap` (QKᵀ), and which of its inputs is Q. */
function queryInput(model: ModelProto, tap: string): { node: NodeProto; index: number } | null {
  const nodes = model.graph?.node ?? [];
  const producers = producersOf(nodes);
  let frontier = [tap];
  for (let hop = 0; hop < 6 && frontier.length > 0; hop++) {
    const next: string[] = [];
    for (const tensor of frontier) {
      const at = producers.get(tensor);
      if (at === undefined) continue;
      const node = nodes[at];
      if (hop > 0 && node.opType === 'MatMul' && node.input?.[0]) return { node, index: 0 };
      next.push(...(node.input ?? []).filter(Boolean));
    }
    frontier = next;
  }
  return null;
}

/** Makes the next layer's attention wait for `stats` (see the header); a graph without the pattern is left as is. */
function waitForStats(g: GraphOps, model: ModelProto, stats: LayerStatsOutputs, nextTap: string): void {
  const target = queryInput(model, nextTap);
  if (!target) return;
  const query = target.node.input?.[target.index] ?? '';
  let waited = '';
  const nodes = g.collect(() => {
    // Q reshaped to its own shape plus 0 × (dims of layer l's outputs): any dtype, values untouched.
    const zero = [stats.heads.scale, stats.rollout.scale, stats.received, stats.bands, stats.entropy]
      .map((t) => g.node('Mul', [g.node('Slice', [g.node('Shape', [t]), g.ints([0]), g.ints([1])]), g.ints([0])]))
      .reduce((a, b) => g.node('Add', [a, b]));
    waited = g.node('Reshape', [query, g.node('Add', [g.node('Shape', [query]), zero])]);
  });
  const all = model.graph?.node ?? [];
  all.splice(all.indexOf(target.node), 0, ...nodes);
  (target.node.input as string[])[target.index] = waited;
}

export function appendAttentionStats(model: ModelProto, taps: readonly string[]): StatsOutputs {
  const g = graphOps(model, 'pa_stats');
  if (taps.length === 0) throw new Error('no attention taps');
  const longRangeFrom = Math.floor(taps.length / 2);
  const layers: LayerStatsOutputs[] = [];
  let rollout: string | null = null;
  let longRange: string | null = null;
  let long = '';
  let k = '';
  for (let l = 0; l < taps.length; l++) {
    const nodes = g.collect(() => {
      const probs = g.cast(taps[l], FLOAT);
      if (l === 0) {
        // Decided once for every layer: the form (dense or top-k) and k.
        long = g.node('Greater', [lastDim(g, probs), g.ints([DENSE_LIMIT])]);
        k = topkSize(g, probs, taps.length);
      }
      const mean = meanOverHeads(g, probs);
      const scores = appendHeadScoreTaps(g, probs);
      if (rollout === null) {
        const n = lastDim(g, mean);
        const identity = g.node('EyeLike', [g.node('Reshape', [mean, g.node('Concat', [n, n], { axis: 0 })])]);
        rollout = g.node('Mul', [g.node('Add', [mean, identity]), g.float(0.5)]);
      } else {
        rollout = g.node('Mul', [g.node('Add', [lowerTriangularProduct(g, mean, rollout, TRIANGULAR_DEPTH), rollout]), g.float(0.5)]);
      }
      if (l >= longRangeFrom) longRange = longRange === null ? mean : g.node('Add', [longRange, mean]);
      layers.push({
        heads: compactRows(g, probs, long, k),
        rollout: compactRows(g, rollout, long, k),
        received: meanOverQueries(g, mean),
        bands: scores.bands,
        entropy: scores.entropy,
      });
    });
    g.insertAfter(taps[l], nodes);
  }
  for (let l = 0; l + 1 < taps.length; l++) waitForStats(g, model, layers[l], taps[l + 1]);
  if (longRange === null) throw new Error('no layer for the long-range sum');
  g.expose([...layers.flatMap((o) => [o.heads.weights, o.heads.keys, o.heads.scale, o.rollout.weights, o.rollout.keys, o.rollout.scale, o.received, o.bands, o.entropy]), longRange]);
  return { layers, longRange, longRangeFrom };
}
