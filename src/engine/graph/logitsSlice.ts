// Graph surgery for answer scoring: the LM head (the MatMul that produces `logits`) is fed only the last K
// positions, K given at run time through the extra int64 input LOGITS_KEEP_INPUT ([−K]). Scoring an answer
// needs the logits at the answer's positions only, and on a small model the vocabulary projection of
// every position is a third or more of the forward pass.
import { onnx } from 'onnx-proto';
import { graphOps } from './graphOps';
import type { ModelProto } from './onnxGraph';
import { ElemType, makeValueInfo, producersOf, valueElemType, valueShape } from './onnxGraph';

export const LOGITS_KEEP_INPUT = 'pa_logits_keep';

/** Rewrites `model` in place; false (unchanged) when the logits are not a plain MatMul of [batch, seq, hidden]. */
export function sliceLogitsInput(model: ModelProto, outputName = 'logits'): boolean {
  const graph = model.graph;
  if (!graph?.node || !graph.output) return false;
  const outputIndex = graph.output.findIndex((o) => o.name === outputName);
  if (outputIndex < 0) return false;
  // An export with num_logits_to_keep slices its LM head already.
  if ((graph.input ?? []).some((i) => /^(?:num_)?logits_to_keep$/.test(i.name ?? ''))) return false;
  const producers = producersOf(graph.node);
  let at = producers.get(outputName);
  // Through the Identity or Cast an exporter may put after the LM head.
  for (let hops = 0; at !== undefined && hops < 4 && /^(?:Identity|Cast)$/.test(graph.node[at].opType ?? ''); hops++) {
    at = producers.get(graph.node[at].input?.[0] ?? '');
  }
  if (at === undefined) return false;
  const head = graph.node[at];
  if (head.opType !== 'MatMul' || (head.domain ?? '') !== '' || !head.input?.[0]) return false;
  const before = graph.node.length;
  const ops = graphOps(model, 'pa_logits');
  const sliced = ops.node('Slice', [head.input[0], LOGITS_KEEP_INPUT, ops.ints([2 ** 62]), ops.ints([1])]);
  // graphOps appends; the Slice must come before the MatMul that now reads it.
  const added = graph.node.splice(before);
  graph.node.splice(at, 0, ...added);
  head.input[0] = sliced;
  graph.input = [...(graph.input ?? []), makeValueInfo(LOGITS_KEEP_INPUT, ElemType.INT64, [1])];
  const old = graph.output[outputIndex];
  const shape = valueShape(old);
  graph.output[outputIndex] = makeValueInfo(
    outputName,
    valueElemType(old),
    shape && shape.length === 3 ? [shape[0], 'kept_positions', shape[2]] : null,
  );
  return true;
}

export function encodeSliced(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}
