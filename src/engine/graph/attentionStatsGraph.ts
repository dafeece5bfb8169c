// Appends the cross-layer statistics to the tapped graph, so onnxruntime computes them in the same run
// (multi-threaded MLAS MatMul instead of an n³ JavaScript loop):
//   M_l        = mean over heads of the layer's probabilities             [.., n, n]
//   received_l = mean over queries of M_l                                  [.., n]
//   rollout (Abnar & Zuidema 2020): Â_l = ½M_l + ½I, R_l = Â_l·R_{l−1}, R_0 = Â_0.
// To avoid building an identity matrix in the graph, R_l is carried as P_l + c_l·I with
//   P_0 = ½M_0, c_0 = ½;  P_l = ½(M_l·P_{l−1} + c_{l−1}·M_l + P_{l−1}),  c_l = ½c_{l−1}.
// The rollout output is P_l; the engine adds c_l = 2^−(l+1) on the diagonal. Rows of Â already sum to 1
// (softmax rows do), so no renormalization is needed.
// Also per layer: M_l itself (long-range pairs read it; computed as a MatMul, see meanOverHeads), the
// head-role inputs (headScoreGraph.ts), and the compact rows of attentionEncoding.ts computed by
// onnxruntime instead of JavaScript loops over heads × n² values: an If on n picks the dense branch
// (uint8 by row maximum via QuantizeLinear, which rounds half to even; the row maxima) for n ≤ DENSE_LIMIT,
// else the top-k branch (uint8 weights, uint16 keys with 0xffff padding, the row maxima; k computed from
// the runtime shape exactly like chooseTopK). onnxruntime runs every node of a graph whatever is fetched,
// so the If is what keeps the unused form from costing anything.
import { onnx } from 'onnx-proto';
import { DENSE_LIMIT, MAX_TOPK, MIN_TOPK, TOPK_BUDGET_BYTES } from '../analysis/attentionEncoding';
import type { ModelProto } from './onnxGraph';
import type { ScalarGraphOps } from './headScoreGraph';
import { appendHeadScoreTaps } from './headScoreGraph';
import { lowerTriangularProduct } from './triangularMatMul';

export interface StatsOutputs {
  readonly received: readonly string[];
  readonly rollout: readonly string[];
  readonly headMean: readonly string[];
  readonly quantized: readonly string[];
  readonly rowMax: readonly string[];
  readonly topkWeights: readonly string[];
  readonly topkIndices: readonly string[];
  readonly topkScale: readonly string[];
  /** headScoreGraph.ts: per-query bands and sampled rows, what the head-role scores read. */
  readonly bands: readonly string[];
  readonly entropy: readonly string[];
}

/** Block levels for the M_l·P_{l−1} product (≈1/3 of a dense MatMul's FLOPs); see triangularMatMul.ts. */
const TRIANGULAR_DEPTH = 3;

export const ROLLOUT_DIAGONAL = (layer: number): number => Math.pow(0.5, layer + 1);

export function appendAttentionStats(model: ModelProto, taps: readonly string[]): StatsOutputs {
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph');
  const opset = Number((model.opsetImport ?? []).find((o) => !o.domain)?.version ?? 13);
  const nodes = graph.node ?? (graph.node = []);
  const inits = graph.initializer ?? (graph.initializer = []);
  let counter = 0;
  const name = (base: string): string => `pa_stats/${base}_${counter++}`;
  const constant = (value: number): string => {
    const tensorName = name('const');
    const data = Float32Array.of(value);
    inits.push(onnx.TensorProto.create({ name: tensorName, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], rawData: new Uint8Array(data.buffer) }));
    return tensorName;
  };
  let target: onnx.INodeProto[] = nodes; // where node() adds to: the graph, or an If branch being built
  const node = (opType: string, inputs: string[], attribute: onnx.IAttributeProto[] = []): string => {
    const output = name(opType);
    target.push(onnx.NodeProto.create({ name: output, opType, input: inputs, output: [output], attribute, domain: '' }));
    return output;
  };
  /** A subgraph for If: nodes built by `build` (they may read outer values), its results as outputs. */
  const branch = (build: () => string[]): onnx.IGraphProto => {
    const saved = target;
    const local: onnx.INodeProto[] = [];
    target = local;
    try {
      const outputs = build().map((o) => node('Identity', [o]));
      return onnx.GraphProto.create({ name: name('branch'), node: local, output: outputs.map((o) => onnx.ValueInfoProto.create({ name: o })) });
    } finally {
      target = saved;
    }
  };
  const ops: ScalarGraphOps = {
    node: (opType, inputs, intAttrs = {}) =>
      node(
        opType,
        inputs,
        Object.entries(intAttrs).map(([key, i]) => onnx.AttributeProto.create({ name: key, type: onnx.AttributeProto.AttributeType.INT, i })),
      ),
    ints: (values) => {
      const tensorName = name('ints');
      const data = BigInt64Array.from(values.map((v) => BigInt(v)));
      inits.push(onnx.TensorProto.create({ name: tensorName, dataType: onnx.TensorProto.DataType.INT64, dims: [values.length], rawData: new Uint8Array(data.buffer) }));
      return tensorName;
    },
    float: (value) => constant(value),
    scalar: (value) => {
      const tensorName = name('scalar');
      inits.push(onnx.TensorProto.create({ name: tensorName, dataType: onnx.TensorProto.DataType.INT64, dims: [], rawData: new Uint8Array(BigInt64Array.of(BigInt(value)).buffer) }));
      return tensorName;
    },
  };
  // Reduce ops take axes as an attribute before opset 18, as an input from 18 on.
  const reduce = (op: 'ReduceMean' | 'ReduceMax', input: string, axis: number, keepdims = 0): string => {
    const keep = onnx.AttributeProto.create({ name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: keepdims });
    if (opset >= 18) {
      const axesName = name('axes');
      const data = BigInt64Array.of(BigInt(axis));
      inits.push(onnx.TensorProto.create({ name: axesName, dataType: onnx.TensorProto.DataType.INT64, dims: [1], rawData: new Uint8Array(data.buffer) }));
      return node(op, [input, axesName], [keep]);
    }
    const axes = onnx.AttributeProto.create({ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [axis] });
    return node(op, [input], [axes, keep]);
  };
  const castTo = (input: string, to: number): string =>
    node('Cast', [input], [onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to })]);

  const half = constant(0.5);
  const full = constant(255);
  const tiny = constant(1e-30);
  const received: string[] = [];
  const rollout: string[] = [];
  const headMean: string[] = [];
  const quantized: string[] = [];
  const rowMax: string[] = [];
  const topkWeights: string[] = [];
  const topkIndices: string[] = [];
  const topkScale: string[] = [];
  const bands: string[] = [];
  const entropy: string[] = [];
  // k = min(n, clamp(⌊BUDGET / (3 · layers · (heads + 1) · n)⌋, MIN_TOPK, MAX_TOPK)), as chooseTopK.
  const topkOf = (probs: string): string => {
    const shape = ops.node('Shape', [probs]);
    const n = ops.node('Slice', [shape, ops.ints([-1]), ops.ints([2 ** 62])]);
    const heads = ops.node('Slice', [shape, ops.ints([-3]), ops.ints([-2])]);
    const rowsBytes = ops.node('Mul', [ops.node('Mul', [n, ops.node('Add', [heads, ops.ints([1])])]), ops.ints([3 * taps.length])]);
    const budget = ops.node('Div', [ops.ints([TOPK_BUDGET_BYTES]), rowsBytes]);
    return ops.node('Min', [ops.node('Min', [ops.node('Max', [budget, ops.ints([MIN_TOPK])]), ops.ints([MAX_TOPK])]), n]);
  };
  // One pass over heads × n² values: QuantizeLinear with a per-row scale (rowMax / 255) on the rows
  // viewed as [rows, n] (a free Reshape), instead of four element-wise passes (Div, Mul, Add, Cast).
  const quantizeRows = (probs: string, max: string): string => {
    const scale = node('Div', [node('Reshape', [node('Max', [max, tiny]), ops.ints([-1])]), full]);
    const zeroPoint = castTo(node('Mul', [scale, constant(0)]), onnx.TensorProto.DataType.UINT8);
    const rows = node('Reshape', [probs, node('Concat', [ops.ints([-1]), ops.node('Slice', [ops.node('Shape', [probs]), ops.ints([-1]), ops.ints([2 ** 62])])], [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 })])]);
    return node('QuantizeLinear', [rows, scale, zeroPoint], [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 })]);
  };
  // Mean over heads as a [1, h] × [h, n²] MatMul: onnxruntime's ReduceMean over a middle axis takes a slow
  // strided path (as long as the rest of the statistics together at 512 tokens). Batch is 1.
  const meanOverHeads = (probs: string): string => {
    const shape = ops.node('Shape', [probs]);
    const heads = ops.node('Slice', [shape, ops.ints([-3]), ops.ints([-2])]); // [h]
    const weights = node('Div', [
      ops.node('Expand', [constant(1), ops.node('Concat', [ops.ints([1]), heads], { axis: 0 })]),
      castTo(heads, onnx.TensorProto.DataType.FLOAT),
    ]); // [1, h] of 1/h
    const flat = ops.node('Reshape', [probs, ops.node('Concat', [heads, ops.ints([-1])], { axis: 0 })]); // [h, n²]
    const square = ops.node('Concat', [ops.ints([1]), ops.node('Slice', [shape, ops.ints([-2]), ops.ints([2 ** 62])])], { axis: 0 });
    return ops.node('Reshape', [node('MatMul', [weights, flat]), square]); // [1, n, n]
  };
  const pad = ops.ints([0xffff]);
  const first = [ops.ints([0]), ops.ints([1]), ops.ints([-1])];
  let previous: string | null = null;
  let diagonal = 0.5;
  for (const tap of taps) {
    const asFloat = castTo(tap, onnx.TensorProto.DataType.FLOAT);
    const mean = meanOverHeads(asFloat);
    headMean.push(mean);
    received.push(reduce('ReduceMean', mean, -2));
    const scoreTaps = appendHeadScoreTaps(ops, asFloat);
    bands.push(scoreTaps.bands);
    entropy.push(scoreTaps.entropy);
    // The compact rows: dense u8 for n ≤ DENSE_LIMIT, else top-k. An If runs only the branch needed
    // (onnxruntime computes every node of a graph whatever is fetched).
    const denseRows = branch(() => {
      const max = reduce('ReduceMax', asFloat, -1, 1);
      // uint8 = round(p / rowMax · 255); rowMax ≥ tiny so an all-zero row stays 0.
      const weights =
        opset >= 13
          ? quantizeRows(asFloat, max)
          : castTo(node('Add', [node('Mul', [node('Div', [asFloat, node('Max', [max, tiny])]), full]), half]), onnx.TensorProto.DataType.UINT8);
      return [weights, castTo(ops.ints([0]), onnx.TensorProto.DataType.UINT16), max];
    });
    const topkRows = branch(() => {
      // Top-k per row, strongest first; keys with weight 0 (a short causal row) become the 0xffff pad.
      const values = node('TopK', [asFloat, topkOf(asFloat)], [
        onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }),
      ]);
      const indices = name('TopK_indices');
      target[target.length - 1].output = [values, indices];
      const strongest = node('Slice', [values, ...first]);
      const scaled = node('Add', [node('Mul', [node('Div', [values, node('Max', [strongest, tiny])]), full]), half]);
      const keys = castTo(node('Where', [node('Equal', [values, constant(0)]), pad, indices]), onnx.TensorProto.DataType.UINT16);
      return [castTo(scaled, onnx.TensorProto.DataType.UINT8), keys, strongest];
    });
    const long = ops.node('Greater', [ops.node('Slice', [ops.node('Shape', [asFloat]), ops.ints([-1]), ops.ints([2 ** 62])]), ops.ints([DENSE_LIMIT])]);
    const compact = [name('rows_weights'), name('rows_indices'), name('rows_scale')];
    nodes.push(
      onnx.NodeProto.create({
        name: name('If'),
        opType: 'If',
        input: [long],
        output: compact,
        domain: '',
        attribute: [
          onnx.AttributeProto.create({ name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: topkRows }),
          onnx.AttributeProto.create({ name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: denseRows }),
        ],
      }),
    );
    quantized.push(compact[0]);
    topkWeights.push(compact[0]);
    topkIndices.push(compact[1]);
    rowMax.push(compact[2]);
    topkScale.push(compact[2]);
    let current: string;
    if (previous === null) {
      current = node('Mul', [mean, half]);
    } else {
      const product = lowerTriangularProduct(ops, mean, previous, TRIANGULAR_DEPTH);
      const mixed = node('Add', [node('Add', [product, node('Mul', [mean, constant(diagonal)])]), previous]);
      current = node('Mul', [mixed, half]);
      diagonal /= 2;
    }
    rollout.push(current);
    previous = current;
  }
  graph.output = [
    ...(graph.output ?? []),
    ...[...received, ...rollout, ...headMean, ...topkWeights, ...topkIndices, ...topkScale, ...bands, ...entropy].map((n) =>
      onnx.ValueInfoProto.create({ name: n }),
    ),
  ];
  return { received, rollout, headMean, quantized, rowMax, topkWeights, topkIndices, topkScale, bands, entropy };
}
