// "Attention × value norm" (Kobayashi et al., EMNLP 2020) in the graph: for each layer, the norm of every
// key's value vector after that head's slice of the output projection, ‖v_j W_O^h‖, one extra projection
// per layer. From the tapped probabilities (attentionTap.ts) it follows the MatMul with V forward through
// Transpose/Reshape to the output projection (a MatMul with a [heads·headDim, hidden] initializer), then
// appends G_h = W_O^h (W_O^h)ᵀ ([heads, headDim, headDim], from the weights alone, so folded at load) and
// ‖v_j W_O^h‖ = sqrt(v_j · G_h v_j) → [1, heads, n], float32, exposed as an output: n·heads·headDim² a
// layer rather than the n·hidden² of projecting V.
import { EngineError } from '../engineError';
import { graphOps } from './graphOps';
import { consumersOf, ElemType, type ModelProto, type NodeProto } from './onnxGraph';

const PASS_THROUGH = new Set(['Cast', 'Identity', 'Dropout', 'Where']);
const RESHAPING = new Set(['Transpose', 'Reshape', 'Cast', 'Identity']);

/**
 * Per layer, the name of the [1, heads, n] value-norm output; `taps` are the probability tensors in layer order.
 * `newKeysOnly`: [1, heads, q] instead, the norms of the q keys the run feeds (its queries, the last q keys), so
 * that a decode step with a KV cache computes one key's norm rather than every cached key's again.
 */
export function appendValueNorms(
  model: ModelProto,
  taps: readonly string[],
  heads: number,
  label: string,
  options: { readonly newKeysOnly?: boolean } = {},
): string[] {
  const graph = model.graph;
  if (!graph) throw new EngineError(`${label} has no graph.`);
  const nodes = graph.node ?? [];
  const consumers = consumersOf(nodes);
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const ops = graphOps(model, '/value_norm');
  if (ops.opset < 13)
    throw new EngineError(`Attention × value norm needs an opset 13+ graph; ${label} is opset ${ops.opset}.`);
  const unsupported = (why: string): EngineError =>
    new EngineError(`Attention × value norm cannot read ${label}: ${why}.`);
  const follow = (from: string, accept: (n: NodeProto, input: string) => boolean, through: Set<string>) => {
    let current = from;
    for (let hop = 0; hop < 6; hop++) {
      const users = (consumers.get(current) ?? []).map((i) => nodes[i]);
      const hit = users.find((n) => accept(n, current));
      if (hit) return hit;
      const next = users.find((n) => through.has(n.opType ?? ''));
      if (!next?.output?.[0]) return null;
      current = next.output[0];
    }
    return null;
  };
  return taps.map((tap, layer) => {
    const pv = follow(tap, (n, input) => n.opType === 'MatMul' && n.input?.[0] === input, PASS_THROUGH);
    if (!pv?.input?.[1] || !pv.output?.[0]) throw unsupported(`layer ${layer}'s probabilities feed no MatMul with V`);
    const value = pv.input[1];
    const projection = follow(
      pv.output[0],
      (n, input) => n.opType === 'MatMul' && n.input?.[0] === input && initializers.has(n.input?.[1] ?? ''),
      RESHAPING,
    );
    const wo = projection?.input?.[1] ? initializers.get(projection.input[1]) : undefined;
    const dims = (wo?.dims ?? []).map(Number);
    if (!wo || dims.length !== 2 || dims[0] % heads !== 0)
      throw unsupported(`layer ${layer}'s output projection is not a MatMul with a [heads·headDim, hidden] weight`);
    // ‖v W_O^h‖² = v·(G_h v) with G_h = W_O^h (W_O^h)ᵀ [headDim, headDim]: G reads only the weights, so
    // onnxruntime folds it when the session loads, and a run costs n·heads·headDim² rather than n·hidden².
    const wo3 = ops.cast(
      ops.node('Reshape', [wo.name ?? '', ops.ints([heads, dims[0] / heads, dims[1]])]),
      ElemType.FLOAT,
    );
    const gram = ops.node('MatMul', [wo3, ops.node('Transpose', [wo3], { perm: [0, 2, 1] })]);
    // The last q keys: Slice(V, starts = −q) over the keys axis, q = the probabilities' query count.
    const fed = options.newKeysOnly
      ? ops.node('Slice', [
          value,
          ops.node('Neg', [ops.node('Gather', [ops.node('Shape', [tap]), ops.ints([2])])]),
          ops.ints([Number.MAX_SAFE_INTEGER]),
          ops.ints([2]),
        ])
      : value;
    const v = ops.cast(fed, ElemType.FLOAT);
    const quadratic = ops.node('ReduceSum', [ops.node('Mul', [v, ops.node('MatMul', [v, gram])]), ops.ints([-1])], {
      keepdims: 0,
    });
    // Rounding can take a zero norm's square a hair below 0.
    const norm = ops.node('Sqrt', [ops.node('Relu', [quadratic])]);
    ops.expose([norm]);
    return norm;
  });
}
