// Appends the inspection's statistics to the tapped graph, so onnxruntime computes them in the same run and
// only compact results leave it (no per-head [n, n] tensor is fetched unless the caller asks for the raw
// probabilities). Per layer l, with P_l the layer's probabilities [.., heads, n, n]:
//   M_l        = mean over heads of P_l, as a [1, h] × [h, n²] MatMul (ReduceMean over a middle axis takes a
//                slow strided path in onnxruntime)                                          [1, n, n]
//   received_l = mean over queries of M_l (a ones-vector MatMul)                            [1, 1, n]
//   rollout (Abnar & Zuidema 2020): Â_l = ½M_l + ½I, R_0 = Â_0, R_l = Â_l·R_{l−1} = ½(M_l·R_{l−1} + R_{l−1}),
//                the product blocked as lower-triangular (triangularMatMul.ts). Rows of Â sum to 1 (softmax
//                rows do), so no renormalization. R_l stays in the graph; only its compact rows leave it.
//                Not computed where rows come on demand (above DENSE_LIMIT, no per-head rows wanted): the
//                worker computes the rollout rows on screen from the kept Q and K (analysis/rolloutRows.ts).
//   head-role inputs (headScoreGraph.ts), the overview tiles [1, h + 1, T, T] (tilesGraph.ts), and the compact rows of attentionEncoding.ts for P_l and R_l.
// Across layers: the sum of M_l over the last ⌈layers/2⌉ layers, what the long-range pairs read (drivers.ts).
// With AttentionSites (a fused operator's Q and K, onnxSites.ts) P_l is not read from the graph: each layer's
// branch recomputes what it needs from them (siteStatsGraph.ts): in row blocks, the head mean scanned out up to
// BLOCKS.from tokens (for the rollout and long-range sum), none above (rows come on demand from the kept Q and K);
// the whole P only where per-head rows or the probabilities are asked for.
//
// Compact rows: one If on n, built once, decides the form for every layer (the engine reads the form back
// from the outputs: empty keys mean dense): for n ≤ DENSE_LIMIT uint8 by row maximum (QuantizeLinear, which
// rounds half to even) and the row maxima; else the top-k (uint8 weights, uint16 keys with 0xffff padding,
// the row maxima; k from the runtime shape exactly like chooseTopK). onnxruntime runs every node of a graph
// whatever is fetched, so the If is what keeps the unused form from costing anything.
// Memory and load time, measured on the 0.5B shape at 2,048 tokens:
// - onnxruntime would run every statistics node after the model's last layer (seen in its profile), keeping
//   every layer's [heads, n, n] probabilities alive until then. So layer l + 1's attention waits for layer
//   l's statistics: its query input passes through a Where whose condition reads the shape of one of layer
//   l's outputs (exact, for any dtype: only the shape is read).
// - The probabilities are not graph outputs: onnxruntime holds every graph output until the run ends,
//   fetched or not (4.9 GiB over the raw run). Each layer's probabilities leave through a Slice of the first
//   PROBABILITY_ROWS_INPUT query rows (the batch is 1): 0 gives an empty tensor, ALL_ROWS all of them
//   (--dense, the induction probe).
// - Each layer's statistics sit in one If on a condition that is true at run time: onnxruntime's session
//   set-up grows with the square of a graph's node count (7,300 statistics nodes in the main graph took 3 s
//   to plan, a 4.4× slower load than the plain model), and a branch is planned on its own.
// Causal attention is assumed (as the rollout's triangular product does): top-k runs on row blocks, block b
// reading only the keys up to its last query, which skips the masked upper triangle (~3/8 of TopK's work).
import { DENSE_LIMIT, MAX_TOPK, MIN_TOPK, TOPK_BUDGET_BYTES } from '../analysis/attentionEncoding';
import type { ModelProto, NodeProto } from './onnxGraph';
import { producersOf } from './onnxGraph';
import { readableFusedKind } from './fusedAttention';
import type { GraphOps } from './graphOps';
import { graphOps } from './graphOps';
import { appendHeadScoreTaps } from './headScoreGraph';
import { lowerTriangularProduct } from './triangularMatMul';
import { keyBinSums, tileGrid, tilesFromKeyBins } from './tilesGraph';
import type { AttentionSite } from './attentionSite';
import type { BlockPlan, LongRangeTopOutputs } from './siteStatsGraph';
import { BLOCKS, blockedLayerStats, blockedLongRangeTop, contextFromProbs, recomputedProbs } from './siteStatsGraph';

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
  /** [1, heads + 1, T, T]: the overview tiles, the head mean last (tilesGraph.ts). */
  readonly tiles: string;
}

/** A layer's statistics outputs, in the order the graph exposes them and the session fetches them. */
export function layerStatsNames(o: LayerStatsOutputs): string[] {
  return [
    o.heads.weights,
    o.heads.keys,
    o.heads.scale,
    o.rollout.weights,
    o.rollout.keys,
    o.rollout.scale,
    o.received,
    o.bands,
    o.entropy,
    o.tiles,
  ];
}

export interface StatsOutputs {
  readonly layers: readonly LayerStatsOutputs[];
  /** Per layer, the probabilities' first `PROBABILITY_ROWS_INPUT` query rows, [1, heads, rows, n]. */
  readonly probabilities: readonly string[];
  /** Σ M_l over layers ≥ longRangeFrom, [1, n, n]; empty where the statistics are blocked (then longRangeTop). */
  readonly longRange: string;
  /** Blocked (above BLOCKS.from): each query's strongest long-range keys instead (siteStatsGraph.ts); else empty. */
  readonly longRangeTop?: LongRangeTopOutputs;
  readonly longRangeFrom: number;
  /** Recomputed from each layer's Q and K (blocked above BLOCKS.from), not read from its probabilities. */
  readonly recomputed?: boolean;
}

/** Block levels for the M_l·R_{l−1} product (≈1/3 of a dense MatMul's FLOPs); see triangularMatMul.ts. */
const TRIANGULAR_DEPTH = 3;
/** Row blocks for top-k: block b of B reads keys [0, (b+1)·n/B), (B+1)/2B of the full row work. */
const TOPK_ROW_BLOCKS = 4;
const END = 2 ** 62;
/** The int64 [1] graph input: how many query rows of each layer's probabilities to output (0 or ALL_ROWS;
 * NO_HEAD_ROWS: none, and no per-head rows). */
export const PROBABILITY_ROWS_INPUT = 'pa_probability_rows';
export const ALL_ROWS = END;
/** PROBABILITY_ROWS_INPUT's value for no probabilities and no per-head compact rows above DENSE_LIMIT
 * either: the caller asks for rows when it shows them (an initializer cannot give a second input a default:
 * onnxruntime then ignores the feed). */
export const NO_HEAD_ROWS = -1;
const FLOAT = 1;
const UINT8 = 2;
const UINT16 = 4;

// Gather rather than Slice of the Shape: onnxruntime rewrites Slice(Shape) into Shape(start, end) and warns on
// every load that it cannot rename the result where If branches read it.
const lastDim = (g: GraphOps, t: string): string => g.node('Gather', [g.node('Shape', [t]), g.ints([-1])], { axis: 0 }); // [n]
const headsDim = (g: GraphOps, t: string): string =>
  g.node('Gather', [g.node('Shape', [t]), g.ints([-3])], { axis: 0 }); // [h]

/** k = min(n, clamp(⌊BUDGET / (3 · layers · (heads + 1) · n)⌋, MIN_TOPK, MAX_TOPK)), as chooseTopK. */
function topkSize(g: GraphOps, heads: string, n: string, layers: number): string {
  const rowsBytes = g.node('Mul', [g.node('Mul', [n, g.node('Add', [heads, g.ints([1])])]), g.ints([3 * layers])]);
  const budget = g.node('Div', [g.ints([TOPK_BUDGET_BYTES]), rowsBytes]);
  return g.node('Min', [g.node('Min', [g.node('Max', [budget, g.ints([MIN_TOPK])]), g.ints([MAX_TOPK])]), n]);
}

/** uint8 = round(p / rowMax · 255) in one pass: QuantizeLinear with a per-row scale on the rows viewed as [rows, n]. */
function denseRows(g: GraphOps, probs: string, n: string): string[] {
  const tiny = g.float(1e-30); // rowMax ≥ tiny so an all-zero row stays 0
  const max = g.reduceMax(probs, -1, true);
  let weights: string;
  if (g.opset >= 13) {
    const scale = g.node('Div', [g.node('Reshape', [g.node('Max', [max, tiny]), g.ints([-1])]), g.float(255)]);
    const zeroPoint = g.cast(g.node('Mul', [scale, g.float(0)]), UINT8);
    const rows = g.node('Reshape', [probs, g.node('Concat', [g.ints([-1]), n], { axis: 0 })]);
    weights = g.node('QuantizeLinear', [rows, scale, zeroPoint], { axis: 0 });
  } else {
    weights = g.cast(
      g.node('Add', [g.node('Mul', [g.node('Div', [probs, g.node('Max', [max, tiny])]), g.float(255)]), g.float(0.5)]),
      UINT8,
    );
  }
  return [weights, g.cast(g.ints([]), UINT16), max];
}

/** The k strongest keys per row, strongest first; keys with weight 0 (a short causal row) become the 0xffff pad. */
function topkRows(g: GraphOps, probs: string, n: string, k: string): string[] {
  const values: string[] = [];
  const indices: string[] = [];
  let start = g.ints([0]);
  for (let b = 1; b <= TOPK_ROW_BLOCKS; b++) {
    const end = b === TOPK_ROW_BLOCKS ? n : g.node('Div', [g.node('Mul', [n, g.ints([b])]), g.ints([TOPK_ROW_BLOCKS])]);
    const block = g.node('Slice', [
      probs,
      g.node('Concat', [start, g.ints([0])], { axis: 0 }),
      g.node('Concat', [end, end], { axis: 0 }),
      g.ints([-2, -1]),
    ]);
    const [v, i] = g.multi('TopK', [block, k], 2, { axis: -1 });
    values.push(v);
    indices.push(i);
    start = end;
  }
  const value = g.node('Concat', values, { axis: -2 });
  const index = g.node('Concat', indices, { axis: -2 });
  const strongest = g.node('Slice', [value, g.ints([0]), g.ints([1]), g.ints([-1])]);
  const scaled = g.node('Add', [
    g.node('Mul', [g.node('Div', [value, g.node('Max', [strongest, g.float(1e-30)])]), g.float(255)]),
    g.float(0.5),
  ]);
  const keys = g.cast(g.node('Where', [g.node('Equal', [value, g.float(0)]), g.ints([0xffff]), index]), UINT16);
  return [g.cast(scaled, UINT8), keys, strongest];
}

function compactRows(
  g: GraphOps,
  probs: string,
  n: string,
  long: string,
  k: string,
  wanted: string | null = null,
): CompactRowsOutputs {
  const topk = (): string[] =>
    wanted === null
      ? topkRows(g, probs, n, k)
      : g.ifElse(
          wanted,
          () => topkRows(g, probs, n, k),
          () => [g.empty(UINT8), g.empty(UINT16), g.empty(FLOAT)],
        );
  const [weights, keys, scale] = g.ifElse(long, topk, () => denseRows(g, probs, n));
  return { weights, keys, scale };
}

function meanOverHeads(g: GraphOps, probs: string, n: string): string {
  const heads = headsDim(g, probs);
  const weights = g.node('Div', [
    g.node('Expand', [g.float(1), g.node('Concat', [g.ints([1]), heads], { axis: 0 })]),
    g.cast(heads, FLOAT),
  ]); // [1, h] of 1/h
  const flat = g.node('Reshape', [probs, g.node('Concat', [heads, g.ints([-1])], { axis: 0 })]); // [h, n²]; batch is 1
  const square = g.node('Concat', [g.ints([1]), n, n], { axis: 0 });
  return g.node('Reshape', [g.node('MatMul', [weights, flat]), square]); // [1, n, n]
}

/** Mean over queries as a [1, n] × [1, n, n] MatMul (a strided ReduceMean over axis −2 is slow). */
function meanOverQueries(g: GraphOps, mean: string, n: string): string {
  const ones = g.node('Expand', [g.float(1), g.node('Concat', [g.ints([1]), n], { axis: 0 })]);
  return g.node('Div', [g.node('MatMul', [ones, mean]), g.cast(n, FLOAT)]);
}

/** What reads the queries of the attention that makes `tap`: the fused operator itself (its input 0), else
 * the MatMul nearest upstream of the Softmax (QKᵀ). */
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
      if (readableFusedKind(node) && node.input?.[0]) return { node, index: 0 };
      if (hop > 0 && node.opType === 'MatMul' && node.input?.[0]) return { node, index: 0 };
      next.push(...(node.input ?? []).filter(Boolean));
    }
    frontier = next;
  }
  return null;
}

/** The If among `nodes` that outputs `made` now outputs `name` instead, and the operator that made `name` (the
 * fused attention, whose present K/V nothing reads) is removed. */
function replaceFused(model: ModelProto, nodes: readonly NodeProto[], made: string, name: string): void {
  const all = model.graph?.node ?? [];
  const fusedNode = all.findIndex((n) => (n.output ?? []).includes(name) && !nodes.includes(n));
  const maker = nodes.find((n) => (n.output ?? []).includes(made));
  if (fusedNode < 0 || !maker) throw new Error(`no fused attention makes ${name}`);
  const [removed] = all.splice(fusedNode, 1);
  (maker.output as string[])[(maker.output ?? []).indexOf(made)] = name;
  // What fed only the fused operator (its packed Q/K/V views, its lengths) goes too: onnxruntime would still run
  // it, and a view nothing reads can keep its source alive to the end of the run.
  let pending = (removed.input ?? []).filter(Boolean);
  while (pending.length > 0) {
    const read = namesRead(all);
    for (const output of model.graph?.output ?? []) if (output.name) read.add(output.name);
    const next: string[] = [];
    for (const tensor of pending) {
      if (read.has(tensor)) continue;
      const at = all.findIndex((n) => (n.output ?? []).includes(tensor));
      const initializers = model.graph?.initializer ?? [];
      const constant = initializers.findIndex((t) => t.name === tensor);
      if (at < 0 && constant >= 0) initializers.splice(constant, 1);
      if (at < 0 || (all[at].output ?? []).some((o) => o && read.has(o))) continue;
      next.push(...(all[at].input ?? []).filter(Boolean));
      all.splice(at, 1);
    }
    pending = next;
  }
}

/** Every tensor name that a node reads, subgraphs (If/Loop bodies, nested) included. */
function namesRead(nodes: readonly NodeProto[], into = new Set<string>()): Set<string> {
  for (const node of nodes) {
    for (const input of node.input ?? []) if (input) into.add(input);
    for (const attr of node.attribute ?? [])
      for (const sub of attr.g ? [attr.g] : (attr.graphs ?? [])) {
        namesRead(sub.node ?? [], into);
        for (const output of sub.output ?? []) if (output.name) into.add(output.name);
      }
  }
  return into;
}

/** Makes the next layer's attention wait for `done` (see the header); a graph without the pattern is left as is. */
function waitFor(g: GraphOps, model: ModelProto, done: string, nextTap: string): void {
  const target = queryInput(model, nextTap);
  if (!target) return;
  const query = target.node.input?.[target.index] ?? '';
  let waited = '';
  const nodes = g.collect(() => {
    // Where(a condition read from layer l's output, Q, Q): Q itself for any dtype, and shape inference keeps
    // Q's shape (a Reshape to a computed shape lost it, and a fused operator downstream then mis-inferred).
    const zero = g.node('Mul', [g.node('Gather', [g.node('Shape', [done]), g.ints([0])], { axis: 0 }), g.ints([0])]);
    waited = g.node('Where', [g.node('Equal', [zero, g.ints([0])]), query, query]);
  });
  const all = model.graph?.node ?? [];
  all.splice(all.indexOf(target.node), 0, ...nodes);
  (target.node.input as string[])[target.index] = waited;
}

interface Shared {
  readonly n: string;
  readonly long: string;
  readonly k: string;
  readonly rows: string;
  /** bool [1]: compute the per-head top-k rows (HEAD_ROWS_INPUT). */
  readonly headRows: string;
  /** bool [1]: no per-head rows nor probabilities wanted and the rows not sent dense. With sites the head mean
   * then comes from the row blocks (no layer's whole [heads, n, n] is recomputed); on every path the overview
   * tiles are computed only then. */
  readonly meanOnly: string;
}

/** What a layer's statistics are made of, however its probabilities were read. */
interface LayerParts {
  /** [1, n, n]: the head mean M_l. */
  readonly mean: string;
  readonly received: string;
  readonly bands: string;
  readonly entropy: string;
  readonly tiles: string;
  readonly heads: CompactRowsOutputs;
  /** The probabilities' first `rows` query rows. */
  readonly dense: string;
}

/** Layer l's outputs from its parts: the rollout step and its compact rows, the long-range sum. */
function layerOutputs(
  g: GraphOps,
  parts: LayerParts,
  s: Shared,
  rollout: string | null,
  longRange: string | null,
  inLongRange: boolean,
): string[] {
  const { mean } = parts;
  // Where rows come on demand (s.meanOnly: above DENSE_LIMIT, no per-head rows wanted) the rollout's rows do too,
  // from the kept Q and K (analysis/rolloutRows.ts): no triangular product, no top-k here.
  const [rolloutWeights, rolloutKeys, rolloutScale, next] = g.ifElse(
    s.meanOnly,
    () => [g.empty(UINT8), g.empty(UINT16), g.empty(FLOAT), g.empty(FLOAT)],
    () => {
      let step: string;
      if (rollout === null) {
        const identity = g.node('EyeLike', [g.node('Reshape', [mean, g.node('Concat', [s.n, s.n], { axis: 0 })])]);
        step = g.node('Mul', [g.node('Add', [mean, identity]), g.float(0.5)]);
      } else {
        step = g.node('Mul', [
          g.node('Add', [lowerTriangularProduct(g, mean, rollout, s.n, TRIANGULAR_DEPTH), rollout]),
          g.float(0.5),
        ]);
      }
      const rows = compactRows(g, step, s.n, s.long, s.k);
      return [rows.weights, rows.keys, rows.scale, step];
    },
  );
  const outputs = [
    parts.heads.weights,
    parts.heads.keys,
    parts.heads.scale,
    rolloutWeights,
    rolloutKeys,
    rolloutScale,
    parts.received,
    parts.bands,
    parts.entropy,
    parts.tiles,
    parts.dense,
    next,
  ];
  if (inLongRange) outputs.push(longRange === null ? mean : g.node('Add', [longRange, mean]));
  return outputs;
}

/** Layer l's statistics from its probabilities (built inside its If branch); `rollout` and `longRange` are the
 * running values so far. */
function layerStats(
  g: GraphOps,
  probs: string,
  s: Shared,
  rollout: string | null,
  longRange: string | null,
  inLongRange: boolean,
): string[] {
  const mean = meanOverHeads(g, probs, s.n);
  const scores = appendHeadScoreTaps(g, probs, s.n);
  const grid = tileGrid(g, s.n);
  const parts: LayerParts = {
    // Only where no rows are sent (the panel draws thumbnails from rows when it has them): a read of every head's
    // [n, n] costs about as much as the head mean's.
    tiles: g.ifElse(
      s.meanOnly,
      () => [tilesFromKeyBins(g, keyBinSums(g, probs, s.n, grid), s.n, grid)],
      () => [g.empty(FLOAT)],
    )[0],
    mean,
    received: meanOverQueries(g, mean, s.n),
    bands: scores.bands,
    entropy: scores.entropy,
    heads: compactRows(g, probs, s.n, s.long, s.k, s.headRows),
    dense: g.node('Slice', [probs, g.ints([0]), s.rows, g.ints([-2])]),
  };
  return layerOutputs(g, parts, s, rollout, longRange, inLongRange);
}

/** Layer l's statistics from its site without its whole probabilities: the head mean scanned out of the row
 * blocks (siteStatsGraph.ts), no per-head rows, no probabilities (taken when neither is asked for). */
function meanBlockedStats(
  g: GraphOps,
  site: AttentionSite,
  s: Shared,
  rollout: string | null,
  longRange: string | null,
  inLongRange: boolean,
  blockRows: number,
): string[] {
  const b = blockedLayerStats(g, site, s.n, blockRows, true);
  const parts: LayerParts = {
    mean: b.mean,
    received: b.received,
    bands: b.bands,
    entropy: b.entropy,
    tiles: b.tiles,
    heads: { weights: g.empty(UINT8), keys: g.empty(UINT16), scale: g.empty(FLOAT) },
    dense: g.empty(FLOAT),
  };
  return withContext(layerOutputs(g, parts, s, rollout, longRange, inLongRange), b.context);
}

/** A branch's outputs, the layer's attention output last where the statistics make it (AttentionSite.context). */
function withContext(outputs: string[], context: string): string[] {
  return context === '' ? outputs : [...outputs, context];
}

/** Element types of layerStats' outputs, in order (the untaken branch's empty tensors). */
const LAYER_OUTPUT_TYPES = [
  UINT8,
  UINT16,
  FLOAT,
  UINT8,
  UINT16,
  FLOAT,
  FLOAT,
  FLOAT,
  FLOAT,
  FLOAT,
  FLOAT,
  FLOAT,
  FLOAT,
];

/** A blocked layer's outputs in layerStats' order: no compact rows, no rollout, no probabilities. */
function blockedStats(
  g: GraphOps,
  site: AttentionSite,
  s: Shared,
  longRange: string | null,
  inLongRange: boolean,
  blockRows: number,
): string[] {
  const b = blockedLayerStats(g, site, s.n, blockRows);
  const none = [g.empty(UINT8), g.empty(UINT16), g.empty(FLOAT)];
  const outputs = [...none, ...none, b.received, b.bands, b.entropy, b.tiles, g.empty(FLOAT), g.empty(FLOAT)];
  // No [n, n] sum: the long-range pairs are found after the last layer (blockedLongRangeTop).
  if (inLongRange) outputs.push(longRange === null ? g.empty(FLOAT) : g.node('Identity', [longRange]));
  return withContext(outputs, b.context);
}

/**
 * `taps`: per layer, its probabilities, or with `sites` the tensor its statistics go after (the fused
 * attention's output): the statistics are then recomputed from each layer's Q and K (siteStatsGraph.ts).
 */
export function appendAttentionStats(
  model: ModelProto,
  taps: readonly string[],
  sites: readonly AttentionSite[] | null = null,
  blocks: BlockPlan = BLOCKS,
  kept: readonly AttentionSite[] | null = null,
): StatsOutputs {
  const g = graphOps(model, 'pa_stats');
  if (taps.length === 0) throw new Error('no attention taps');
  const longRangeFrom = Math.floor(taps.length / 2);
  const layers: LayerStatsOutputs[] = [];
  const probabilities: string[] = [];
  const done: string[] = [];
  const rowsInput = g.input(PROBABILITY_ROWS_INPUT, 7, [1]); // INT64
  const rows = g.node('Max', [rowsInput, g.ints([0])]);
  let rollout: string | null = null;
  let longRange: string | null = null;
  let shared: Shared | null = null;
  let always = '';
  const fusedAt: boolean[] = [];
  for (let l = 0; l < taps.length; l++) {
    const site = sites?.[l] ?? null;
    // The statistics make this layer's attention output: its fused operator goes (AttentionSite.context).
    const fused = site !== null && site.v !== undefined && site.context !== undefined;
    fusedAt.push(fused);
    let context = '';
    const nodes = g.collect(() => {
      // With a site the probabilities exist only inside the branch that recomputes them.
      const probs = site ? '' : g.cast(taps[l], FLOAT);
      if (shared === null) {
        // Decided once for every layer: n, the form (dense or top-k) and k.
        const n = site ? g.node('Gather', [g.node('Shape', [site.q]), g.ints([2])], { axis: 0 }) : lastDim(g, probs);
        const headRows = g.node('Greater', [rowsInput, g.ints([NO_HEAD_ROWS])]);
        shared = {
          n,
          long: g.node('Greater', [n, g.ints([DENSE_LIMIT])]),
          k: topkSize(g, site ? g.ints([site.heads]) : headsDim(g, probs), n, taps.length),
          rows,
          headRows,
          meanOnly: g.node('And', [g.node('Not', [headRows]), g.node('Greater', [n, g.ints([DENSE_LIMIT])])]),
        };
        // With sites: true above BLOCKED_FROM; else always true at run time (not foldable when the graph loads).
        always = g.node('Greater', [n, g.ints(site ? [blocks.from] : [0])]);
      }
      const s: Shared = shared;
      const inLongRange = l >= longRangeFrom;
      const count = inLongRange ? LAYER_OUTPUT_TYPES.length : LAYER_OUTPUT_TYPES.length - 1;
      const branches = site
        ? g.ifElse(
            always,
            () => blockedStats(g, site, s, longRange, inLongRange, blocks.longRows ?? blocks.rows),
            () =>
              g.ifElse(
                s.meanOnly,
                () => meanBlockedStats(g, site, s, rollout, longRange, inLongRange, blocks.rows),
                () => {
                  const whole = recomputedProbs(g, site, s.n);
                  const outputs = layerStats(g, whole, s, rollout, longRange, inLongRange);
                  return withContext(outputs, fused ? contextFromProbs(g, site, whole, s.n) : '');
                },
              ),
          )
        : g.ifElse(
            always,
            () => layerStats(g, probs, s, rollout, longRange, inLongRange),
            () => LAYER_OUTPUT_TYPES.slice(0, count).map((type) => g.empty(type)),
          );
      const [hw, hk, hs, rw, rk, rs, received, bands, entropy, tiles, dense, next] = branches;
      const sum = inLongRange ? branches[LAYER_OUTPUT_TYPES.length - 1] : '';
      // An export's operator may run in fp16: the float32 output is then cast like its query input.
      const made = branches[branches.length - 1];
      if (fused) context = site.contextLike === undefined ? made : g.node('CastLike', [made, site.contextLike]);
      layers.push({
        heads: { weights: hw, keys: hk, scale: hs },
        rollout: { weights: rw, keys: rk, scale: rs },
        received,
        bands,
        entropy,
        tiles,
      });
      probabilities.push(dense);
      done.push(hs);
      rollout = next;
      if (inLongRange) longRange = sum;
    });
    g.insertAfter(taps[l], nodes);
    if (fused) replaceFused(model, nodes, context, site.context as string);
  }
  // A fused layer's successor reads its output, so it waits anyway.
  for (let l = 0; l + 1 < taps.length; l++) if (!fusedAt[l]) waitFor(g, model, done[l], taps[l + 1]);
  if (longRange === null || shared === null) throw new Error('no layer for the long-range sum');
  let longRangeTop: LongRangeTopOutputs | undefined;
  if (sites !== null) {
    const whole: string = longRange;
    const n = (shared as Shared).n;
    const [weights, keys, sum] = g.ifElse(
      always,
      () => {
        // From the kept Q and K (fp16 Q): the float32 ones are then freed layer by layer, not held to the end.
        const from = (kept ?? sites).slice(longRangeFrom);
        const top = blockedLongRangeTop(g, from, n, blocks.longRows ?? blocks.rows);
        return [top.weights, top.keys, g.empty(FLOAT)];
      },
      () => [g.empty(FLOAT), g.empty(FLOAT), g.node('Identity', [whole])],
    );
    longRange = sum;
    longRangeTop = { weights, keys };
  }
  const graph = model.graph;
  const tapped = new Set(taps);
  if (graph) graph.output = (graph.output ?? []).filter((o) => !tapped.has(o.name ?? ''));
  const top = longRangeTop ? [longRangeTop.weights, longRangeTop.keys] : [];
  g.expose([...probabilities, ...layers.flatMap(layerStatsNames), longRange, ...top]);
  return {
    layers,
    probabilities,
    longRange,
    longRangeFrom,
    recomputed: sites !== null,
    ...(longRangeTop ? { longRangeTop } : {}),
  };
}
