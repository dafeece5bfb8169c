// The rollout rows' block product as an onnxruntime graph (analysis/rolloutRows.ts, RolloutBlock; sessions kept
// by runtime/rowKernel.ts beside the row graph): the head mean of a block of b query rows over keys 0..r−1,
// recomputed from its Q and K, times the block's columns of V, in one run. q [kv, group·b, d] against keys
// [kv, r, d] in one batched FusedMatMul (transB, the scale as alpha), the soft-cap, the additive mask [b, r]
// (causal, sliding window), Softmax, the mean over the kv × group heads, then v [s, b] · mean → [s, r].
// The block's probabilities ([heads, b, r]) are the only large tensor, and the caller sizes b to bound them.
import { onnx } from 'onnx-proto';
import type { RowKernelShape } from '../analysis/exactRows';
import { ElemType, encodeModel, makeValueInfo } from '../graph/onnxGraph';

const A = onnx.AttributeProto.AttributeType;

/** Inputs q [kv, group·b, d], k [kv, r, d], mask [b, r], v [s, b]; output product [s, r]. */
export function rolloutBlockGraph(s: RowKernelShape): Uint8Array {
  const nodes: onnx.INodeProto[] = [];
  const initializer: onnx.ITensorProto[] = [];
  const node = (op: string, inputs: string[], output: string, attribute: onnx.IAttributeProto[] = [], domain = '') =>
    nodes.push(onnx.NodeProto.create({ name: output, opType: op, domain, input: inputs, output: [output], attribute }));
  const scalar = (name: string, value: number): string => {
    initializer.push(onnx.TensorProto.create({ name, dataType: ElemType.FLOAT, dims: [], floatData: [value] }));
    return name;
  };
  const ints = (name: string, values: number[]): string => {
    initializer.push(
      onnx.TensorProto.create({ name, dataType: ElemType.INT64, dims: [values.length], int64Data: values }),
    );
    return name;
  };
  node(
    'FusedMatMul',
    ['q', 'k'],
    'scores',
    [
      onnx.AttributeProto.create({ name: 'transB', type: A.INT, i: 1 }),
      onnx.AttributeProto.create({ name: 'alpha', type: A.FLOAT, f: s.scale }),
    ],
    'com.microsoft',
  );
  let scores = 'scores';
  if (s.softcap !== null) {
    node('Mul', [scores, scalar('inverse_cap', 1 / s.softcap)], 'capped_in');
    node('Tanh', ['capped_in'], 'capped_tanh');
    node('Mul', ['capped_tanh', scalar('cap', s.softcap)], 'capped');
    scores = 'capped';
  }
  // [kv, group·b, r] → [heads, b, r]: the block's rows and keys are the mask's shape.
  node('Shape', ['mask'], 'mask_shape');
  node('Concat', [ints('minus_one', [-1]), 'mask_shape'], 'heads_shape', [
    onnx.AttributeProto.create({ name: 'axis', type: A.INT, i: 0 }),
  ]);
  node('Reshape', [scores, 'heads_shape'], 'per_head');
  node('Add', ['per_head', 'mask'], 'masked');
  node('Softmax', ['masked'], 'probs', [onnx.AttributeProto.create({ name: 'axis', type: A.INT, i: -1 })]);
  node('ReduceMean', ['probs', ints('mean_axes', [0])], 'mean', [
    onnx.AttributeProto.create({ name: 'keepdims', type: A.INT, i: 0 }),
  ]);
  node('MatMul', ['v', 'mean'], 'product');
  const graph = onnx.GraphProto.create({
    name: 'rollout_block',
    node: nodes,
    initializer,
    input: [
      makeValueInfo('q', ElemType.FLOAT, ['kv', 'gb', s.headDim]),
      makeValueInfo('k', ElemType.FLOAT, ['kv', 'r', s.headDim]),
      makeValueInfo('mask', ElemType.FLOAT, ['b', 'r']),
      makeValueInfo('v', ElemType.FLOAT, ['s', 'b']),
    ],
    output: [makeValueInfo('product', ElemType.FLOAT, ['s', 'r'])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'prompt-attention rollout rows',
    opsetImport: [
      { domain: '', version: 18 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph,
  });
  return encodeModel(model);
}
