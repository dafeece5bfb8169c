// What headRoles.ts needs from a layer's probabilities, gathered in the graph so the engine does not copy
// heads × n² floats out of onnxruntime (0.5 GiB for the default model at 2,048 tokens):
// - band sums [.., heads, 1, 6]: per head, Σ over queries q of the weights on keys 0 (sink), q, q−1, q−2, q−3,
//   q−4, each column from the first query where the scorer reads it (BAND_FROM: its key is ≥ 1 and not clamped).
//   Summed in the graph: per-query bands were heads × n × 6 floats a layer, 66 MiB at 8,192 tokens on the 0.5B
//   shape, held twice at the run's end (onnxruntime's output and onnxruntime-node's copy of it);
// - entropy [.., heads, S]: −Σ p·ln p of S ≤ ENTROPY_SAMPLES evenly spaced query rows q ≥ 4
//   (entropySampleRows), summed as a MatMul with a ones vector (no opset-dependent ReduceSum).
import type { GraphOps } from './graphOps';

export const BAND_WIDTH = 6;
/** The first query each band column counts from: the sink from q = 1, keys q and q − 1 from q = 2, q − d
 * (d = 2..4) from q = d + 1 (headRoles.ts scores them: sink, local, previous token). */
export const BAND_FROM: readonly number[] = [1, 2, 2, 3, 4, 5];
export const ENTROPY_SAMPLES = 32;

/** The query rows the broad score reads, the same formula as the graph's. */
export function entropySampleRows(n: number): number[] {
  const count = Math.min(ENTROPY_SAMPLES, Math.max(0, n - 4));
  return Array.from({ length: count }, (_, s) => 4 + Math.floor(((n - 5) * s) / Math.max(1, count - 1)));
}

/** `n` is the sequence length as an int64 [1] tensor, shared by every layer (their index arithmetic is one). */
export function appendHeadScoreTaps(ops: GraphOps, probs: string, n: string): { bands: string; entropy: string } {
  const shape = ops.node('Shape', [probs]);
  const nScalar = ops.node('Gather', [n, ops.scalar(0)], { axis: 0 });
  const positions = ops.node('Range', [ops.scalar(0), nScalar, ops.scalar(1)]); // [n]
  const target = ops.node(
    'Concat',
    [ops.node('Slice', [shape, ops.ints([0]), ops.ints([-1])]), ops.ints([BAND_WIDTH])],
    { axis: 0 },
  );
  const index = ops.node('Expand', [bandKeys(ops, positions, null), target]);
  const bands = ops.node('GatherElements', [probs, index], { axis: -1 }); // [.., h, n, 6]

  const sampled = ops.node('Gather', [probs, entropyRows(ops, n)], { axis: -2 }); // [.., h, S, n]
  return { bands: bandSums(ops, bands, positions, null), entropy: rowEntropy(ops, sampled, n) };
}

/** Σ over the rows of `bands` [.., h, R, 6] (queries `qpos` [R], weighted by `valid` [R, 1] where given) of
 * the columns the scorer reads at each query (q ≥ BAND_FROM), as [.., h, 1, 6]: a MatMul with a ones row. */
export function bandSums(ops: GraphOps, bands: string, qpos: string, valid: string | null): string {
  const q = ops.node('Reshape', [qpos, ops.ints([-1, 1])]);
  let counted = ops.cast(ops.node('Not', [ops.node('Less', [q, ops.ints(BAND_FROM)])]), 1); // [R, 6]
  if (valid !== null) counted = ops.node('Mul', [counted, valid]);
  const ones = ops.node('Expand', [
    ops.float(1),
    ops.node('Concat', [ops.ints([1]), ops.node('Shape', [qpos])], { axis: 0 }),
  ]);
  return ops.node('MatMul', [ones, ops.node('Mul', [bands, counted])]);
}

/** The sampled query rows as an int64 [S] tensor: 4 + ⌊(n − 5)·s / max(1, S − 1)⌋, S = min(32, max(0, n − 4)). */
export function entropyRows(ops: GraphOps, n: string): string {
  const count = ops.node('Min', [
    ops.ints([ENTROPY_SAMPLES]),
    ops.node('Max', [ops.node('Sub', [n, ops.ints([4])]), ops.ints([0])]),
  ]);
  const s = ops.node('Range', [ops.scalar(0), ops.node('Gather', [count, ops.scalar(0)], { axis: 0 }), ops.scalar(1)]);
  const step = ops.node('Div', [
    ops.node('Mul', [ops.node('Sub', [n, ops.ints([5])]), s]),
    ops.node('Max', [ops.node('Sub', [count, ops.ints([1])]), ops.ints([1])]),
  ]);
  return ops.node('Add', [step, ops.ints([4])]);
}

/** −Σ p·ln p of each row of `rows` [.., S, n], as [.., S, 1] (a MatMul with a ones vector). */
export function rowEntropy(ops: GraphOps, rows: string, n: string): string {
  const plogp = ops.node('Mul', [rows, ops.node('Log', [ops.node('Max', [rows, ops.float(1e-30)])])]);
  const ones = ops.node('Expand', [ops.float(-1), ops.node('Concat', [n, ops.ints([1])], { axis: 0 })]); // [n, 1] of −1
  return ops.node('MatMul', [plogp, ones]);
}

/** Per query q of `qpos` [R]: keys 0, q, q−1, …, q−4 (clamped at 0, and at `last` for padded rows), [R, 6]. */
export function bandKeys(ops: GraphOps, qpos: string, last: string | null): string {
  const q = ops.node('Reshape', [qpos, ops.ints([-1, 1])]);
  const back = ops.node('Max', [ops.node('Sub', [q, ops.ints([0, 1, 2, 3, 4])]), ops.ints([0])]);
  const index = ops.node('Concat', [ops.node('Mul', [q, ops.ints([0])]), back], { axis: -1 });
  return last === null ? index : ops.node('Min', [index, last]);
}
