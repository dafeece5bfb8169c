// Reads the probabilities out of fused attention operators, where the graph has no Softmax of its own:
// - com.microsoft.GroupQueryAttention: qk_output=2 adds a 4th output, the post-softmax probabilities
//   [batch, num_heads, S, total], already expanded per query head (CPU kernel only);
// - com.microsoft.MultiHeadAttention: its optional 4th output `qk` is the scaled QKᵀ before softmax, with the
//   causal mask in it when unidirectional=1; the attention bias it was given is added here, then a Softmax;
// - ai.onnx Attention (opset 23+): qk_matmul_output_mode=3 makes its 4th output the post-softmax probabilities.
// Other fused operators never hold the probabilities as a tensor; they are refused by name.
import type { NodeProto, ValueInfoProto } from './onnxGraph';
import { makeValueInfo } from './onnxGraph';
import { onnx } from 'onnx-proto';

/** Fused operators whose probabilities cannot be read (com.microsoft unless the key says otherwise). */
export const UNREADABLE_ATTENTION_OPS = new Set([
  'Attention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'DecoderAttention',
  'DecoderMaskedMultiHeadAttention',
  'DecoderMaskedSelfAttention',
  'SparseAttention',
  'LongformerAttention',
  'QAttention',
  'RotaryEmbeddingAttention',
  'PagedAttention',
]);

export type FusedKind = 'gqa' | 'mha' | 'onnx-attention';

const isMicrosoft = (node: NodeProto): boolean => node.domain === 'com.microsoft';
const isOnnx = (node: NodeProto): boolean => !node.domain || node.domain === 'ai.onnx';

/** The readable fused operator `node` is, or null. */
export function readableFusedKind(node: NodeProto): FusedKind | null {
  if (node.opType === 'GroupQueryAttention' && isMicrosoft(node)) return 'gqa';
  if (node.opType === 'MultiHeadAttention' && isMicrosoft(node)) return 'mha';
  if (node.opType === 'Attention' && isOnnx(node)) return 'onnx-attention';
  return null;
}

export function isUnreadableFused(node: NodeProto): boolean {
  if (readableFusedKind(node)) return false;
  return UNREADABLE_ATTENTION_OPS.has(node.opType ?? '') && (isMicrosoft(node) || !node.domain);
}

/** Why the graph must run on CPU when it holds this kind (only GQA's CPU kernel gives the output). */
export const CPU_ONLY_REASON: Readonly<Partial<Record<FusedKind, string>>> = {
  gqa: 'GroupQueryAttention gives its attention probabilities only on the CPU kernel (its GPU kernels refuse the output)',
};

function setIntAttribute(node: NodeProto, name: string, value: number): void {
  const others = (node.attribute ?? []).filter((a) => a.name !== name);
  node.attribute = [
    ...others,
    onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value }),
  ];
}

/** Gives `node` a 4th output named `name` (empty names pad the optional outputs before it). */
function setFourthOutput(node: NodeProto, name: string): void {
  const outputs = [...(node.output ?? [])];
  while (outputs.length < 3) outputs.push('');
  outputs[3] = name;
  node.output = outputs;
}

/**
 * Makes `node` expose its probabilities; returns the tensor that holds them and any nodes to add after it.
 * The node's other outputs are left as they were.
 */
export function exposeFusedProbabilities(
  node: NodeProto,
  kind: FusedKind,
  uniqueName: (base: string) => string,
  floatType: number,
): { tensor: string; added: NodeProto[]; typed: ValueInfoProto[] } {
  const base = node.name || node.output?.[0] || kind;
  if (kind === 'gqa') {
    const tensor = node.output?.[3] || uniqueName(`${base}/attention_probs`);
    setIntAttribute(node, 'qk_output', 2);
    setFourthOutput(node, tensor);
    return { tensor, added: [], typed: [] };
  }
  if (kind === 'onnx-attention') {
    const tensor = node.output?.[3] || uniqueName(`${base}/attention_probs`);
    setIntAttribute(node, 'qk_matmul_output_mode', 3);
    setFourthOutput(node, tensor);
    return { tensor, added: [], typed: [] };
  }
  const qk = node.output?.[3] || uniqueName(`${base}/qk`);
  setFourthOutput(node, qk);
  const added: NodeProto[] = [];
  let scores = qk;
  // MultiHeadAttention inputs: query, key, value, bias, key_padding_mask, attention_bias, past_key, …
  // (a prefill feeds an all-ones key_padding_mask, so only the bias can change the scores).
  const bias = node.input?.[5];
  if (bias) {
    const withBias = uniqueName(`${base}/qk_with_bias`);
    added.push(onnx.NodeProto.create({ name: withBias, opType: 'Add', input: [qk, bias], output: [withBias] }));
    scores = withBias;
  }
  const tensor = uniqueName(`${base}/attention_probs`);
  const softmax = onnx.NodeProto.create({ name: tensor, opType: 'Softmax', input: [scores], output: [tensor] });
  softmax.attribute = [
    onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 }),
  ];
  added.push(softmax);
  // Nothing binds the type of MultiHeadAttention's qk output: onnxruntime needs it declared.
  return { tensor, added, typed: [makeValueInfo(qk, floatType, null)] };
}
