// Appends the cross-layer statistics to the tapped graph, so onnxruntime computes them in the same run
// (multi-threaded MLAS MatMul instead of an n³ JavaScript loop):
//   M_l        = mean over heads of the layer's probabilities             [.., n, n]
//   received_l = mean over queries of M_l                                  [.., n]
//   rollout (Abnar & Zuidema 2020): Â_l = ½M_l + ½I, R_l = Â_l·R_{l−1}, R_0 = Â_0.
// To avoid building an identity matrix in the graph, R_l is carried as P_l + c_l·I with
//   P_0 = ½M_0, c_0 = ½;  P_l = ½(M_l·P_{l−1} + c_{l−1}·M_l + P_{l−1}),  c_l = ½c_{l−1}.
// The rollout output is P_l; the engine adds c_l = 2^−(l+1) on the diagonal. Rows of Â already sum to 1
// (softmax rows do), so no renormalization is needed.
// Also per layer: M_l itself (long-range pairs read it), and the probabilities quantized to uint8 by
// their row maximum (quantized_l, rowMax_l) — the dense encoding of attentionEncoding.ts, done by
// onnxruntime instead of a JavaScript loop over heads × n² values — and for long inputs the top-k form
// (topkWeights_l uint8, topkIndices_l uint16 with 0xffff padding, topkScale_l). onnxruntime runs every
// node whatever is fetched, so k is computed in the graph from the runtime shape exactly like
// chooseTopK (attentionEncoding.ts), and is 1 (a cheap max) when n ≤ DENSE_LIMIT and nobody reads it.
import { onnx } from 'onnx-proto';
import { DENSE_LIMIT, MAX_TOPK, MIN_TOPK, TOPK_BUDGET_BYTES } from './attentionEncoding';
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
  readonly sampled: readonly string[];
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
  const node = (opType: string, inputs: string[], attribute: onnx.IAttributeProto[] = []): string => {
    const output = name(opType);
    nodes.push(onnx.NodeProto.create({ name: output, opType, input: inputs, output: [output], attribute, domain: '' }));
    return output;
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
  const sampled: string[] = [];
  // k = n > DENSE_LIMIT ? min(n, clamp(⌊BUDGET / (3 · layers · (heads + 1) · n)⌋, MIN_TOPK, MAX_TOPK)) : 1.
  const topkOf = (probs: string): string => {
    const shape = ops.node('Shape', [probs]);
    const n = ops.node('Slice', [shape, ops.ints([-1]), ops.ints([2 ** 62])]);
    const heads = ops.node('Slice', [shape, ops.ints([-3]), ops.ints([-2])]);
    const rowsBytes = ops.node('Mul', [ops.node('Mul', [n, ops.node('Add', [heads, ops.ints([1])])]), ops.ints([3 * taps.length])]);
    const budget = ops.node('Div', [ops.ints([TOPK_BUDGET_BYTES]), rowsBytes]);
    const k = ops.node('Min', [ops.node('Min', [ops.node('Max', [budget, ops.ints([MIN_TOPK])]), ops.ints([MAX_TOPK])]), n]);
    return ops.node('Where', [ops.node('Greater', [n, ops.ints([DENSE_LIMIT])]), k, ops.ints([1])]);
  };
  const pad = ops.ints([0xffff]);
  const first = [ops.ints([0]), ops.ints([1]), ops.ints([-1])];
  let previous: string | null = null;
  let diagonal = 0.5;
  for (const tap of taps) {
    const asFloat = castTo(tap, onnx.TensorProto.DataType.FLOAT);
    const mean = reduce('ReduceMean', asFloat, -3);
    headMean.push(mean);
    received.push(reduce('ReduceMean', mean, -2));
    const scoreTaps = appendHeadScoreTaps(ops, asFloat);
    bands.push(scoreTaps.bands);
    sampled.push(scoreTaps.sampled);
    // uint8 = trunc(p / rowMax · 255 + ½), i.e. rounded; rowMax ≥ tiny so an all-zero row stays 0.
    const max = reduce('ReduceMax', asFloat, -1, 1);
    rowMax.push(max);
    const scaled = node('Add', [node('Mul', [node('Div', [asFloat, node('Max', [max, tiny])]), full]), half]);
    quantized.push(castTo(scaled, onnx.TensorProto.DataType.UINT8));
    // Top-k per row, strongest first; keys with weight 0 (a short causal row) become the 0xffff pad.
    const values = node('TopK', [asFloat, topkOf(asFloat)], [
      onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }),
    ]);
    const topk = nodes[nodes.length - 1];
    const indices = name('TopK_indices');
    topk.output = [values, indices];
    const strongest = node('Slice', [values, ...first]);
    topkScale.push(strongest);
    const topScaled = node('Add', [node('Mul', [node('Div', [values, node('Max', [strongest, tiny])]), full]), half]);
    topkWeights.push(castTo(topScaled, onnx.TensorProto.DataType.UINT8));
    const zero = node('Equal', [values, constant(0)]);
    topkIndices.push(castTo(node('Where', [zero, pad, indices]), onnx.TensorProto.DataType.UINT16));
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
    ...[...received, ...rollout, ...headMean, ...quantized, ...rowMax, ...topkWeights, ...topkIndices, ...topkScale, ...bands, ...sampled].map((n) =>
      onnx.ValueInfoProto.create({ name: n }),
    ),
  ];
  return { received, rollout, headMean, quantized, rowMax, topkWeights, topkIndices, topkScale, bands, sampled };
}
