// Finds each self-attention block's probabilities in a decoded ONNX graph (the Softmax whose output,
// possibly through Cast nodes, feeds the MatMul with V) and exposes them as graph outputs, in layer order.
import type { ModelProto, NodeProto, ValueInfoProto } from './onnxGraph';
import { consumersOf, makeValueInfo, valueShape } from './onnxGraph';
import { EngineError } from '../engineError';

/** Fused operators whose attention probabilities never exist as a tensor. */
const FUSED_ATTENTION_OPS = new Set([
  'Attention',
  'MultiHeadAttention',
  'GroupQueryAttention',
  'PackedAttention',
  'PackedMultiHeadAttention',
  'DecoderAttention',
  'DecoderMaskedMultiHeadAttention',
  'DecoderMaskedSelfAttention',
  'SparseAttention',
  'LongformerAttention',
  'QAttention',
  'RotaryEmbeddingAttention',
]);

/**
 * Nodes that may sit between the Softmax and the MatMul with V without changing the weights: dtype casts,
 * inference-mode dropout, and the Where that some SDPA exports use to zero fully masked rows.
 */
const PASS_THROUGH_OPS = new Set(['Cast', 'Identity', 'Dropout', 'Where']);

export class AttentionTapError extends EngineError {}

export interface AttentionTapPlan {
  /** 'tapped': outputs were added to the graph; 'existing': the graph already outputs attentions. */
  readonly kind: 'tapped' | 'existing';
  /** Output names, one per layer, in layer order. */
  readonly outputNames: readonly string[];
}

const LAYER_IN_NAME = /(?:^|[/._])(?:layers|layer|h|blocks|block)[._](\d+)(?:[/._]|$)/;

function layerFromName(name: string | null | undefined): number | null {
  const match = LAYER_IN_NAME.exec(name ?? '');
  return match ? Number(match[1]) : null;
}

/** Follows Cast/Identity/Dropout forward from `tensor` to a MatMul that reads it as its first input. */
function feedsValueMatMul(tensor: string, nodes: readonly NodeProto[], consumers: Map<string, number[]>): boolean {
  let current = tensor;
  for (let hop = 0; hop < 4; hop++) {
    const users = consumers.get(current) ?? [];
    if (users.some((i) => nodes[i].opType === 'MatMul' && nodes[i].input?.[0] === current)) return true;
    const next = users.map((i) => nodes[i]).find((n) => PASS_THROUGH_OPS.has(n.opType ?? ''));
    if (!next?.output?.[0]) return false;
    current = next.output[0];
  }
  return false;
}

/** Graph outputs that already carry attention probabilities: [b, h, n, n]-shaped, named like attention. */
function existingAttentionOutputs(outputs: readonly ValueInfoProto[]): string[] {
  const found = outputs.filter((o) => {
    const name = o.name ?? '';
    if (!/attn|attention/i.test(name) || /present|past|key|value/i.test(name)) return false;
    const shape = valueShape(o);
    return shape === null || (shape.length === 4 && (shape[2] === shape[3] || shape[2] === null || shape[3] === null));
  });
  const index = (o: ValueInfoProto): number => Number(/(\d+)(?!.*\d)/.exec(o.name ?? '')?.[1] ?? 0);
  return found.sort((a, b) => index(a) - index(b)).map((o) => o.name ?? '');
}

function describeOp(node: NodeProto): string {
  return node.domain ? `${node.domain}.${node.opType}` : String(node.opType);
}

/**
 * Decides how to read attention from `model` and, when tapping, adds the outputs to it (mutates).
 * `layers` comes from config.json; the number of taps must equal it.
 */
export function planAttentionTap(model: ModelProto, layers: number, fileLabel: string): AttentionTapPlan {
  const graph = model.graph;
  if (!graph) throw new AttentionTapError(`${fileLabel} has no graph.`);
  const nodes = graph.node ?? [];

  const existing = existingAttentionOutputs(graph.output ?? []);
  if (existing.length === layers && layers > 0) return { kind: 'existing', outputNames: existing };

  const fused = nodes.find((n) => FUSED_ATTENTION_OPS.has(n.opType ?? ''));
  if (fused) {
    throw new AttentionTapError(
      `${fileLabel} uses the fused attention operator ${describeOp(fused)}, whose probabilities cannot be read; export the model without attention fusion (e.g. optimum with --no-post-process / no ORT transformer optimizations).`,
    );
  }

  const consumers = consumersOf(nodes);
  const taps: { tensor: string; position: number; layer: number | null }[] = [];
  nodes.forEach((node, position) => {
    if (node.opType !== 'Softmax' || (node.domain ?? '') !== '') return;
    const tensor = node.output?.[0];
    if (tensor && feedsValueMatMul(tensor, nodes, consumers)) {
      taps.push({ tensor, position, layer: layerFromName(node.name) ?? layerFromName(tensor) });
    }
  });

  if (taps.length === 0) {
    throw new AttentionTapError(`${fileLabel} has no attention Softmax feeding a MatMul with the values; cannot read attention from this graph.`);
  }
  if (taps.length !== layers) {
    throw new AttentionTapError(
      `${fileLabel} has ${taps.length} attention Softmax nodes but config.json says ${layers} layers; cannot map attention to layers.`,
    );
  }
  // Nodes are topologically sorted; the layer index in the node name, when every tap has a distinct one, wins.
  const named = taps.every((t) => t.layer !== null) && new Set(taps.map((t) => t.layer)).size === taps.length;
  taps.sort((a, b) => (named ? (a.layer as number) - (b.layer as number) : a.position - b.position));

  const already = new Set((graph.output ?? []).map((o) => o.name));
  // No element type: ORT infers it (float32, or float16 for half-precision exports).
  const added = taps.filter((t) => !already.has(t.tensor)).map((t) => makeValueInfo(t.tensor, 0, null));
  graph.output = [...(graph.output ?? []), ...added];
  return { kind: 'tapped', outputNames: taps.map((t) => t.tensor) };
}
