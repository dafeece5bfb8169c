// The statistics read from a layer's AttentionSite (post-rotary Q and K) instead of its probabilities, so the
// model's own attention stays fused (GroupQueryAttention without qk_output, the engine's GGUF graphs):
//   P = softmax(scale · Q Kᵀ + causal mask), grouped-query heads by a [1, kv, group, rows, d] MatMul.
// - A Loop over blocks of BLOCKS.rows query rows recomputes P_b [heads, rows, keys ≤ block end] and reduces it
//   at once: the head mean's column sums (received) and the band weights (head roles); the entropy reads the
//   ≤ 32 sampled rows apart. Memory per layer is one block's heads × rows × n, never heads × n². Each block of Q
//   is padded to whole rows (scan outputs must have one shape); padded rows are masked out and sliced off.
// - Up to BLOCKS.from tokens the Loop also scans out the head mean M [n, n] (16 MiB at 2,048 tokens), from which
//   attentionStatsGraph.ts computes the rollout and the long-range sum as for a tapped export. Only per-head
//   compact rows or the probabilities themselves (the induction probe, --dense, short inputs sent dense) need a
//   layer's whole P [heads, n, n]: then it is recomputed whole (recomputedProbs).
// - Each block's P_b is also summed over the key bins of the overview tiles (tilesGraph.ts) and scanned out as
//   [heads, R, T]; after the Loop the rows are summed into row bins: [heads + 1, T, T], never [heads, n, n].
// - Above BLOCKS.from no [n, n] is kept: rows come on demand, and the rollout is not computed.
// - The long-range pairs (drivers.ts) need, per query, its strongest keys at distance ≥ LONG_RANGE_DISTANCE in
//   the head mean summed over the long-range layers. Above BLOCKED_FROM one more Loop, after the last layer,
//   sums those layers' head-mean rows block by block and keeps each row's LONG_RANGE_TOP strongest keys: no
//   [n, n] sum is ever held (it was about 0.8 GiB at 8,192 tokens).
import type { AttentionSite } from './attentionSite';
import type { GraphOps } from './graphOps';
import { BAND_WIDTH, bandKeys, bandSums, entropyRows, rowEntropy } from './headScoreGraph';
import { LONG_RANGE_DISTANCE } from '../analysis/drivers';
import { tileGrid, tilesFromKeyBins, wholeKeyBinSums } from './tilesGraph';

/** Above how many tokens a layer's statistics are blocked, and the rows of a block. */
export interface BlockPlan {
  readonly from: number;
  readonly rows: number;
  /** The rows of a block above `from` (default `rows`): a block's [heads, rows, n] grows with n, so long
   * inputs take thinner blocks (at 8,192 tokens and 14 heads, 29 MiB a tensor instead of 117). */
  readonly longRows?: number;
}

export const BLOCKS: BlockPlan = { from: 2048, rows: 256, longRows: 64 };
const FLOAT = 1;

/** Query positions `qpos` [R] against keys 0..keys−1: softmax(scale·QKᵀ + mask), [1, heads, R, keys]. */
function probsBlock(g: GraphOps, site: AttentionSite, q: string, k: string, qpos: string, keys: string): string {
  const group = site.heads / site.kvHeads;
  // The scale goes on Q ([h, rows, d]), not on the [h, rows, keys] scores: one n-wide tensor fewer.
  const q5 = g.node('Reshape', [
    g.node('Mul', [q, g.float(site.scale)]),
    g.ints([1, site.kvHeads, group, -1, site.headDim]),
  ]);
  const kT = g.node('Transpose', [g.node('Reshape', [k, g.ints([1, site.kvHeads, 1, -1, site.headDim])])], {
    perm: [0, 1, 2, 4, 3],
  });
  let scores = g.node('MatMul', [q5, kT]);
  if (site.softcap !== null)
    scores = g.node('Mul', [
      g.node('Tanh', [g.node('Mul', [scores, g.float(1 / site.softcap)])]),
      g.float(site.softcap),
    ]);
  scores = g.node('Reshape', [scores, g.node('Concat', [g.ints([1, site.heads, -1]), keys], { axis: 0 })]);
  const query = g.node('Reshape', [qpos, g.ints([-1, 1])]);
  const key = g.node('Reshape', [
    g.node('Range', [g.scalar(0), g.node('Gather', [keys, g.scalar(0)], { axis: 0 }), g.scalar(1)]),
    g.ints([1, -1]),
  ]);
  let masked = g.node('Greater', [key, query]);
  if (site.slidingWindow !== null)
    masked = g.node('Or', [masked, g.node('Less', [key, g.node('Sub', [query, g.ints([site.slidingWindow - 1])])])]);
  // The mask as an additive [R, keys] bias: one small Where, then a broadcast Add on the scores (a Where over
  // [heads, R, keys] cost about three times as much).
  const bias = g.node('Where', [masked, g.float(-Infinity), g.float(0)]);
  return g.node('Softmax', [g.node('Add', [scores, bias])], { axis: -1 });
}

/** The layer's whole P [1, heads, n, n] (n ≤ BLOCKED_FROM). */
export function recomputedProbs(g: GraphOps, site: AttentionSite, n: string): string {
  const positions = g.node('Range', [g.scalar(0), g.node('Gather', [n, g.scalar(0)], { axis: 0 }), g.scalar(1)]);
  return probsBlock(g, site, site.q, site.k, positions, n);
}

/** The attention output P·V as [1, n, heads · d] (head h reads KV head ⌊h / group⌋), from P [1, heads, n, n]. */
export function contextFromProbs(g: GraphOps, site: AttentionSite, probs: string, n: string): string {
  const group = site.heads / site.kvHeads;
  const p5 = g.node('Reshape', [probs, g.node('Concat', [g.ints([1, site.kvHeads, group, -1]), n], { axis: 0 })]);
  const v5 = g.node('Reshape', [site.v as string, g.ints([1, site.kvHeads, 1, -1, site.headDim])]);
  const out = g.node('Transpose', [g.node('MatMul', [p5, v5])], { perm: [0, 3, 1, 2, 4] }); // [1, n, kv, group, d]
  return g.node('Reshape', [out, g.ints([1, -1, site.heads * site.headDim])]);
}

/** Mean over heads of P [1, heads, R, keys] as [R, keys] ([1, h] × [h, R·keys]: no strided ReduceMean). */
function headMean(g: GraphOps, site: AttentionSite, probs: string, rows: number): string {
  const weights = g.node('Expand', [g.float(1 / site.heads), g.ints([1, site.heads])]);
  const flat = g.node('Reshape', [probs, g.ints([site.heads, -1])]);
  return g.node('Reshape', [g.node('MatMul', [weights, flat]), g.ints([rows, -1])]);
}

export interface BlockedLayerStats {
  /** [1, 1, n]: (1/n) Σ_q mean_h P[h, q, key]. */
  readonly received: string;
  /** [1, heads, 1, 6]: the band sums, as headScoreGraph.ts. */
  readonly bands: string;
  /** [1, heads, S, 1]. */
  readonly entropy: string;
  /** [1, n, n]: the head mean, when asked for (else empty). */
  readonly mean: string;
  /** [1, heads + 1, T, T]: the overview tiles (tilesGraph.ts). */
  readonly tiles: string;
  /** [1, n, heads · d]: the attention output P·V, when the site has its values (else ''). */
  readonly context: string;
}

/** Built inside the layer's If branch; `n` is the shared int64 [1] length. */
export function blockedLayerStats(
  g: GraphOps,
  site: AttentionSite,
  n: string,
  blockRows: number,
  keepMean = false,
): BlockedLayerStats {
  const R = blockRows;
  const trips = g.node('Div', [g.node('Add', [n, g.ints([R - 1])]), g.ints([R])]);
  const padded = g.node('Mul', [trips, g.ints([R])]);
  const grid = tileGrid(g, n);
  // K padded with zero rows to T·w keys (≥ n, fewer than w more): each block reads its keys up to a whole key
  // bin of the tiles, the keys past n masked (weight 0), so the bins are a Reshape of P_b, never a copy of it.
  const kPads = g.node('Concat', [g.ints([0, 0, 0, 0, 0, 0]), g.node('Sub', [grid.span, n]), g.ints([0])], { axis: 0 });
  const k = g.node('Pad', [site.k, kPads]);
  const zeros = g.node('Expand', [g.float(0), g.node('Concat', [g.ints([1]), grid.span], { axis: 0 })]); // [1, T·w]
  const values = site.v === undefined ? null : g.node('Pad', [site.v, kPads]); // zero rows past n, as K
  const group = site.heads / site.kvHeads;
  const noBands = g.node('Expand', [g.float(0), g.ints([1, site.heads, 1, BAND_WIDTH])]);
  const scanned = g.loop(g.node('Gather', [trips, g.scalar(0)], { axis: 0 }), [zeros, noBands], (i, [sum, banded]) => {
    const start = g.node('Mul', [g.node('Reshape', [i, g.ints([1])]), g.ints([R])]);
    const end = g.node('Add', [start, g.ints([R])]);
    const wholeBins = g.node('Mul', [
      g.node('Div', [g.node('Add', [end, g.node('Sub', [grid.width, g.ints([1])])]), grid.width]),
      grid.width,
    ]);
    const keys = g.node('Min', [wholeBins, grid.span]);
    const axis = g.ints([2]);
    // Each block's rows are sliced from the unpadded Q and padded to R rows themselves: a padded copy of Q, made
    // before the Loop, was one more [heads, n, d] float32 tensor alive through it (29 MiB at 8,192 tokens).
    const sliced = g.node('Slice', [site.q, start, end, axis]);
    const short = g.node('Sub', [g.ints([R]), g.node('Gather', [g.node('Shape', [sliced]), g.ints([2])], { axis: 0 })]);
    const qb = g.node('Pad', [sliced, g.node('Concat', [g.ints([0, 0, 0, 0, 0, 0]), short, g.ints([0])], { axis: 0 })]);
    const kb = g.node('Slice', [k, g.ints([0]), keys, axis]);
    const qpos = g.node('Range', [
      g.node('Gather', [start, g.scalar(0)], { axis: 0 }),
      g.node('Gather', [end, g.scalar(0)], { axis: 0 }),
      g.scalar(1),
    ]);
    const probs = probsBlock(g, site, qb, kb, qpos, keys); // [1, h, R, keys]
    const valid = g.cast(g.node('Less', [g.node('Reshape', [qpos, g.ints([-1, 1])]), n]), FLOAT); // [R, 1]
    const mean = g.node('Mul', [headMean(g, site, probs, R), valid]); // [R, keys]; padded rows 0
    const ones = g.node('Expand', [g.float(1), g.ints([1, R])]);
    const toWidth = g.node('Concat', [g.ints([0, 0]), g.ints([0]), g.node('Sub', [grid.span, keys])], { axis: 0 });
    const columnSums = g.node('Pad', [g.node('MatMul', [ones, mean]), toWidth]); // [1, T·w]
    const last = g.node('Sub', [keys, g.ints([1])]);
    const index = g.node('Expand', [
      g.node('Reshape', [bandKeys(g, qpos, last), g.ints([1, 1, R, 6])]),
      g.ints([1, site.heads, R, 6]),
    ]);
    const bands = g.node('GatherElements', [probs, index], { axis: -1 }); // [1, h, R, 6]
    const binned = g.node('Mul', [wholeKeyBinSums(g, probs, keys, grid), valid]); // [1, h, R, T]; padded rows 0
    const scans = keepMean ? [binned, g.node('Pad', [mean, toWidth])] : [binned];
    if (values !== null) {
      // The block's attention output: P_b [1, kv, group, R, keys] · V_b [1, kv, 1, keys, d].
      const p5 = g.node('Reshape', [probs, g.ints([1, site.kvHeads, group, R, -1])]);
      const vb = g.node('Reshape', [
        g.node('Slice', [values, g.ints([0]), keys, axis]),
        g.ints([1, site.kvHeads, 1, -1, site.headDim]),
      ]);
      // [1, R, kv, group, d]: the block's rows in the order of the layer's output, so the scan is a Reshape away
      // from it (a Transpose after the Loop was one more [n, heads · d] copy).
      scans.push(g.node('Transpose', [g.node('MatMul', [p5, vb])], { perm: [0, 3, 1, 2, 4] }));
    }
    return {
      carried: [g.node('Add', [sum, columnSums]), g.node('Add', [banded, bandSums(g, bands, qpos, valid)])],
      scans,
    };
  });
  const contextScan = values === null ? '' : scanned[scanned.length - 1]; // [trips, 1, R, kv, group, d]
  const [received, bandTotals, tileScan, meanScan] = scanned;
  const first = (t: string, axis: number): string => g.node('Slice', [t, g.ints([0]), n, g.ints([axis])]);
  const binRows = g.node('Concat', [g.ints([1, site.heads]), padded, grid.side], { axis: 0 });
  const keyBins = g.node('Reshape', [g.node('Transpose', [tileScan], { perm: [1, 2, 0, 3, 4] }), binRows]);
  const samples = entropyRows(g, n);
  const sampled = probsBlock(g, site, g.node('Gather', [site.q, samples], { axis: 2 }), site.k, samples, n);
  return {
    received: g.node('Reshape', [
      g.node('Div', [first(received, 1), g.cast(n, FLOAT)]),
      g.node('Concat', [g.ints([1, 1]), n], { axis: 0 }),
    ]),
    bands: bandTotals,
    entropy: rowEntropy(g, sampled, n),
    tiles: tilesFromKeyBins(g, first(keyBins, 2), n, grid),
    mean: keepMean
      ? g.node('Reshape', [
          first(first(g.node('Reshape', [meanScan, g.node('Concat', [padded, g.ints([-1])], { axis: 0 })]), 0), 1),
          g.node('Concat', [g.ints([1]), n, n], { axis: 0 }),
        ])
      : g.empty(FLOAT),
    context:
      contextScan === '' ? '' : first(g.node('Reshape', [contextScan, g.ints([1, -1, site.heads * site.headDim])]), 1),
  };
}

/** How many of each query's strongest long-range keys the graph keeps (the host skips special keys among them). */
export const LONG_RANGE_TOP = 16;

/** Per query row, the LONG_RANGE_TOP strongest keys of Σ_sites mean_h P (keys 1..q − LONG_RANGE_DISTANCE). */
export interface LongRangeTopOutputs {
  /** [n, LONG_RANGE_TOP] float: the summed weight, −1 where the row has no such key. */
  readonly weights: string;
  /** [n, LONG_RANGE_TOP] float: the key index. */
  readonly keys: string;
}

/** One Loop over blocks of query rows, each block's rows summed over `sites` (the long-range layers). */
export function blockedLongRangeTop(
  g: GraphOps,
  sites: readonly AttentionSite[],
  n: string,
  blockRows: number,
): LongRangeTopOutputs {
  const R = blockRows;
  const trips = g.node('Div', [g.node('Add', [n, g.ints([R - 1])]), g.ints([R])]);
  const [, weightScan, keyScan] = g.loop(
    g.node('Gather', [trips, g.scalar(0)], { axis: 0 }),
    [g.float(0)],
    (i, [unused]) => {
      const start = g.node('Mul', [g.node('Reshape', [i, g.ints([1])]), g.ints([R])]);
      const end = g.node('Add', [start, g.ints([R])]);
      const keys = g.node('Min', [end, n]);
      const axis = g.ints([2]);
      const qpos = g.node('Range', [
        g.node('Gather', [start, g.scalar(0)], { axis: 0 }),
        g.node('Gather', [end, g.scalar(0)], { axis: 0 }),
        g.scalar(1),
      ]);
      let sum = '';
      sites.forEach((site) => {
        // Each block is padded to R rows itself: a padded copy of every long-range layer's Q, made before the
        // Loop, was 12 × 28 MiB at once at 8,192 tokens on the 0.5B shape.
        const sliced = g.cast(g.node('Slice', [site.q, start, end, axis]), FLOAT);
        const short = g.node('Sub', [
          g.ints([R]),
          g.node('Gather', [g.node('Shape', [sliced]), g.ints([2])], { axis: 0 }),
        ]);
        const qb = g.node('Pad', [
          sliced,
          g.node('Concat', [g.ints([0, 0, 0, 0, 0, 0]), short, g.ints([0])], { axis: 0 }),
        ]);
        const kb = g.cast(g.node('Slice', [site.k, g.ints([0]), keys, axis]), FLOAT);
        const mean = headMean(g, site, probsBlock(g, site, qb, kb, qpos, keys), R); // [R, keys]
        sum = sum === '' ? mean : g.node('Add', [sum, mean]);
      });
      const query = g.node('Reshape', [qpos, g.ints([-1, 1])]);
      const key = g.node('Reshape', [
        g.node('Range', [g.scalar(0), g.node('Gather', [keys, g.scalar(0)], { axis: 0 }), g.scalar(1)]),
        g.ints([1, -1]),
      ]);
      const far = g.node('Less', [key, g.node('Sub', [query, g.ints([LONG_RANGE_DISTANCE - 1])])]);
      const usable = g.node('And', [far, g.node('Greater', [key, g.ints([0])])]);
      const masked = g.node('Where', [usable, sum, g.float(-1)]); // [R, keys]
      // Every row as wide as n (TopK's k needs n ≥ LONG_RANGE_TOP keys; scans need one shape).
      const toWidth = g.node('Concat', [g.ints([0, 0]), g.ints([0]), g.node('Sub', [n, keys])], { axis: 0 });
      const row = g.node('Pad', [masked, toWidth, g.float(-1)]);
      const [top, index] = g.multi('TopK', [row, g.ints([LONG_RANGE_TOP])], 2, { axis: -1 });
      return { carried: [g.node('Identity', [unused])], scans: [top, g.cast(index, FLOAT)] };
    },
  );
  const shape = g.ints([-1, LONG_RANGE_TOP]);
  const first = (t: string): string => g.node('Slice', [g.node('Reshape', [t, shape]), g.ints([0]), n, g.ints([0])]);
  return { weights: first(weightScan), keys: first(keyScan) };
}
