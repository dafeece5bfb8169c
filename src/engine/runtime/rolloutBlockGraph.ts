// The rollout rows' block product as an onnxruntime graph (analysis/rolloutRows.ts, RolloutBlock; sessions kept
// by runtime/rowKernel.ts beside the row graph): the head mean of a block of b query rows over keys 0..r−1,
// recomputed from its Q and K, times the block's columns of V, in one run. q [kv, group·b, d] against keys
// [kv, r, d] in one batched FusedMatMul (transB, the scale as alpha), the soft-cap, the additive mask [b, r]
// (causal, sliding window), Softmax, the mean over the kv × group heads, then v [s, b] · mean → [s, r].
// The block's probabilities ([heads, b, r]) are the only large tensor, and the caller sizes b to bound them.
import type { RowKernelShape } from '../analysis/exactRows';
import { ElemType, makeValueInfo } from '../graph/onnxGraph';
import { intAttr, SmallGraph } from './scoreGraph';

/** Inputs q [kv, group·b, d], k [kv, r, d], mask [b, r], v [s, b]; output product [s, r]. */
export function rolloutBlockGraph(s: RowKernelShape): Uint8Array {
  const g = new SmallGraph();
  const scores = g.scores(s);
  // [kv, group·b, r] → [heads, b, r]: the block's rows and keys are the mask's shape.
  g.node('Shape', ['mask'], 'mask_shape');
  g.node('Concat', [g.ints('minus_one', [-1]), 'mask_shape'], 'heads_shape', [intAttr('axis', 0)]);
  g.node('Reshape', [scores, 'heads_shape'], 'per_head');
  g.node('Add', ['per_head', 'mask'], 'masked');
  g.node('Softmax', ['masked'], 'probs', [intAttr('axis', -1)]);
  g.node('ReduceMean', ['probs', g.ints('mean_axes', [0])], 'mean', [intAttr('keepdims', 0)]);
  g.node('MatMul', ['v', 'mean'], 'product');
  return g.encode(
    'rollout_block',
    'prompt-attention rollout rows',
    [
      makeValueInfo('q', ElemType.FLOAT, ['kv', 'gb', s.headDim]),
      makeValueInfo('k', ElemType.FLOAT, ['kv', 'r', s.headDim]),
      makeValueInfo('mask', ElemType.FLOAT, ['b', 'r']),
      makeValueInfo('v', ElemType.FLOAT, ['s', 'b']),
    ],
    [makeValueInfo('product', ElemType.FLOAT, ['s', 'r'])],
  );
}
