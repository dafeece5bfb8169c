// Graph surgery for leave-one-out attribution with a shared prefix (as AttriBoT reuses it): a decoder exported
// without a KV cache (torch's eager Llama: Softmax over QKᵀ/√d + a model-level mask, repeat_kv as
// Unsqueeze/Expand/Reshape) gains past_key_values.L.key/value inputs, concatenated before each layer's
// rotated K and V, and present.L.key/value outputs. Ablating a section leaves the tokens before it unchanged,
// so their keys and values (taken from the whole prompt's pass) are fed as the past and only the rest runs.
// The model's causal mask assumed no past: it is replaced by one built from attention_mask over past + new
// tokens (key j is visible to new query i when j ≤ past + i and attention_mask[j] = 1), with the export's
// own constants (−FLT_MAX, 0). RoPE reads position_ids, which the caller offsets by the past length.
// Beside it, per layer, what attribution reads of the attention, so the whole prompt's pass gives it too:
// the attention received per key (mean over heads and queries) and the probabilities of the rows the
// sliced LM head keeps (LOGITS_KEEP_INPUT), [b, heads, kept, keys].
import { onnx } from 'onnx-proto';
import type { ModelProto, NodeProto } from './onnxGraph';
import { consumersOf, ElemType, makeValueInfo, producersOf, pruneToOutputs } from './onnxGraph';
import { graphOps } from './graphOps';
import { graphFloatType } from './attentionTap';

export const pastName = (layer: number, kind: 'key' | 'value'): string => `past_key_values.${layer}.${kind}`;
export const presentName = (layer: number, kind: 'key' | 'value'): string => `present.${layer}.${kind}`;
export const receivedName = (layer: number): string => `pa_received.${layer}`;
export const keptRowsName = (layer: number): string => `pa_kept_rows.${layer}`;
/**
 * int64 [1]: −R runs the last layer's queries (and everything after them), and the attention statistics, on
 * the last R rows only: ALL_LAST_LAYER_ROWS for the whole prompt's pass, −kept for the ablations.
 */
export const LAST_LAYER_ROWS_INPUT = 'pa_last_layer_rows';
/** LAST_LAYER_ROWS_INPUT's value for every row. */
export const ALL_LAST_LAYER_ROWS = -(2 ** 62);

/** A graph that takes a KV cache, as the prefix scorer (runtime/prefixScoring.ts) runs it. */
export interface PrefixCacheGraph {
  /** Layers with attention outputs (0 for an export's own cache). */
  readonly layers: number;
  /** Each past input with the present output that carries it: [b, kv, past, d] and [b, kv, total, d]. */
  readonly caches: readonly { readonly past: string; readonly present: string }[];
  /** The export's own cache (checked on first use), not one added here. */
  readonly native: boolean;
  /** The logits output, and whether the LM head reads LOGITS_KEEP_INPUT (logitsSlice.ts). */
  readonly logits: string;
  readonly logitsKeep: boolean;
  /** pa_received.L and pa_kept_rows.L outputs (only with a keep input). */
  readonly attention: boolean;
  /** The last layer reads LAST_LAYER_ROWS_INPUT (the graph has the input whenever the cache was added). */
  readonly lastLayerRows: boolean;
}

const CASTS = new Set(['Cast', 'Identity']);
const FLT_MAX = 3.4028234663852886e38;

interface LayerMatch {
  readonly softmax: NodeProto;
  readonly key: string;
  readonly value: string;
  readonly mask: string;
  /** QKᵀ (input 0 is Q), the Add of the mask (input maskSide), and the MatMul with V. */
  readonly scores: NodeProto;
  readonly add: NodeProto;
  readonly maskSide: number;
  readonly valueMatMul: NodeProto;
}

/** Through Cast/Identity back to the first tensor some other node produced. */
function throughCasts(tensor: string, nodes: readonly NodeProto[], producers: Map<string, number>): string {
  let current = tensor;
  for (let hop = 0; hop < 4; hop++) {
    const at = producers.get(current);
    if (at === undefined || !CASTS.has(nodes[at].opType ?? '')) return current;
    current = nodes[at].input?.[0] ?? current;
  }
  return current;
}

/** K or V [b, kv, n, d] before repeat_kv (Unsqueeze → Expand → Reshape), or the tensor itself without GQA. */
function beforeRepeat(tensor: string, nodes: readonly NodeProto[], producers: Map<string, number>): string {
  const reshape = producers.get(tensor);
  if (reshape === undefined || nodes[reshape].opType !== 'Reshape') return tensor;
  const expand = producers.get(nodes[reshape].input?.[0] ?? '');
  if (expand === undefined || nodes[expand].opType !== 'Expand') return tensor;
  const unsqueeze = producers.get(nodes[expand].input?.[0] ?? '');
  if (unsqueeze === undefined || nodes[unsqueeze].opType !== 'Unsqueeze') return tensor;
  return nodes[unsqueeze].input?.[0] ?? tensor;
}

function matchLayer(
  softmax: NodeProto,
  nodes: readonly NodeProto[],
  producers: Map<string, number>,
  consumers: Map<string, number[]>,
): LayerMatch | null {
  const out = softmax.output?.[0];
  if (!out) return null;
  // Forward to the MatMul with V (through the casts torch puts after the Softmax).
  let current = out;
  let valueMatMul: NodeProto | undefined;
  for (let hop = 0; hop < 4 && !valueMatMul; hop++) {
    const users = (consumers.get(current) ?? []).map((i) => nodes[i]);
    valueMatMul = users.find((n) => n.opType === 'MatMul' && n.input?.[0] === current);
    const next = users.find((n) => CASTS.has(n.opType ?? ''));
    if (!valueMatMul && !next?.output?.[0]) return null;
    if (!valueMatMul && next?.output?.[0]) current = next.output[0];
  }
  if (!valueMatMul?.input?.[1]) return null;
  const addAt = producers.get(softmax.input?.[0] ?? '');
  if (addAt === undefined || nodes[addAt].opType !== 'Add') return null;
  const add = nodes[addAt];
  for (const side of [0, 1]) {
    // The scores: QKᵀ, possibly scaled by a Div or Mul.
    let scoresAt = producers.get(add.input?.[side] ?? '');
    if (scoresAt !== undefined && /^(?:Div|Mul)$/.test(nodes[scoresAt].opType ?? ''))
      scoresAt = producers.get(nodes[scoresAt].input?.[0] ?? '');
    if (scoresAt === undefined || nodes[scoresAt].opType !== 'MatMul') continue;
    const transposeAt = producers.get(nodes[scoresAt].input?.[1] ?? '');
    if (transposeAt === undefined || nodes[transposeAt].opType !== 'Transpose') return null;
    const perm = (nodes[transposeAt].attribute ?? []).find((a) => a.name === 'perm')?.ints?.map(Number) ?? [];
    if (perm.join(',') !== '0,1,3,2') return null;
    const key = beforeRepeat(nodes[transposeAt].input?.[0] ?? '', nodes, producers);
    const value = beforeRepeat(valueMatMul.input[1], nodes, producers);
    const mask = throughCasts(add.input?.[1 - side] ?? '', nodes, producers);
    if (!key || !value || !mask) return null;
    return { softmax, key, value, mask, scores: nodes[scoresAt], add, maskSide: 1 - side, valueMatMul };
  }
  return null;
}

/**
 * Whether `root` is only a causal/padding mask: computed from input_ids and attention_mask with small
 * constants, so it can be rebuilt for a past. A bias that carries more (ALiBi slopes, a learned bias, the
 * positions) reads a float vector or another input, and is left alone.
 */
function plainMask(model: ModelProto, root: string, producers: Map<string, number>): boolean {
  const graph = model.graph;
  const nodes = graph?.node ?? [];
  const initializers = new Map((graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const inputs = new Set((graph?.input ?? []).map((i) => i.name ?? ''));
  const small = (t: onnx.ITensorProto): boolean => {
    const count = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
    const float = t.dataType === ElemType.FLOAT || t.dataType === ElemType.FLOAT16 || t.dataType === ElemType.DOUBLE;
    return float ? count <= 1 : count <= 8;
  };
  const seen = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    const tensor = stack.pop() as string;
    if (!tensor || seen.has(tensor)) continue;
    seen.add(tensor);
    if (seen.size > 400) return false;
    if (inputs.has(tensor)) {
      if (tensor !== 'input_ids' && tensor !== 'attention_mask') return false;
      continue;
    }
    const init = initializers.get(tensor);
    if (init) {
      if (!small(init)) return false;
      continue;
    }
    const at = producers.get(tensor);
    if (at === undefined) return false;
    const node = nodes[at];
    if (node.opType === 'Constant') {
      const value = (node.attribute ?? []).find((a) => a.name === 'value')?.t;
      if (!value || !small(value)) return false;
      continue;
    }
    if ((node.attribute ?? []).some((a) => a.g || (a.graphs ?? []).length > 0)) return false;
    // Shape reads only the dims of what it is given.
    if (node.opType !== 'Shape') for (const i of node.input ?? []) stack.push(i);
  }
  return true;
}

function named(opType: string, inputs: string[], output: string, attrs: onnx.IAttributeProto[] = []): NodeProto {
  return onnx.NodeProto.create({ name: output, opType, input: inputs, output: [output], attribute: attrs, domain: '' });
}

/**
 * Rewrites `model` in place; null (unchanged) when the graph is not the pattern above: it already has cache
 * inputs, lacks input_ids/attention_mask/position_ids, or its attention is fused or shaped otherwise.
 * `keepInput`: the sliced LM head's keep input, for the kept rows' probabilities.
 */
export function addPrefixCache(model: ModelProto, keepInput: string | null): PrefixCacheGraph | null {
  const graph = model.graph;
  if (!graph?.node) return null;
  const inputNames = new Set((graph.input ?? []).map((i) => i.name ?? ''));
  if (!['input_ids', 'attention_mask', 'position_ids'].every((n) => inputNames.has(n))) return null;
  if ([...inputNames].some((n) => /^past/.test(n))) return null;
  const opset = Number((model.opsetImport ?? []).find((o) => !o.domain)?.version ?? 0);
  if (opset < 13) return null;
  const nodes = graph.node;
  const producers = producersOf(nodes);
  const consumers = consumersOf(nodes);
  const softmaxes = nodes.filter((n) => n.opType === 'Softmax' && (n.domain ?? '') === '');
  if (softmaxes.length === 0) return null;
  const layers: LayerMatch[] = [];
  for (const s of softmaxes) {
    const match = matchLayer(s, nodes, producers, consumers);
    if (!match) return null;
    layers.push(match);
  }
  const maskRoot = layers[0].mask;
  if (layers.some((l) => l.mask !== maskRoot) || !plainMask(model, maskRoot, producers)) return null;
  if (new Set(layers.map((l) => l.key)).size !== layers.length) return null;

  const floatType = graphFloatType(model);
  const ops = graphOps(model, 'pa_prefix');
  const rowsInput = ops.input(LAST_LAYER_ROWS_INPUT, ElemType.INT64, [1]);
  const end = ops.ints([2 ** 62]);
  // The mask over past + new keys: [b, 1, n, T], built from the graph inputs alone (so it can go first).
  const maskNodes = ops.collect(() => {
    const total = ops.node('Gather', [ops.node('Shape', ['attention_mask']), ops.scalar(1)], { axis: 0 });
    const fresh = ops.node('Gather', [ops.node('Shape', ['input_ids']), ops.scalar(1)], { axis: 0 });
    const past = ops.node('Sub', [total, fresh]);
    const keys = ops.node('Range', [ops.scalar(0), total, ops.scalar(1)]);
    const queries = ops.node('Range', [past, total, ops.scalar(1)]);
    const future = ops.node('Greater', [
      ops.node('Unsqueeze', [keys, ops.ints([0])]),
      ops.node('Unsqueeze', [queries, ops.ints([1])]),
    ]);
    const padded = ops.node('Equal', [ops.cast('attention_mask', ElemType.INT64), ops.ints([0])]);
    const hidden = ops.node('Or', [future, ops.node('Unsqueeze', [padded, ops.ints([1, 2])])]);
    let mask = ops.node('Where', [hidden, ops.float(-FLT_MAX), ops.float(0)]);
    if (floatType !== ElemType.FLOAT) mask = ops.cast(mask, floatType);
    return mask;
  });
  const newMask = maskNodes[maskNodes.length - 1].output?.[0] ?? '';
  for (const node of nodes) node.input = (node.input ?? []).map((name) => (name === maskRoot ? newMask : name));
  nodes.splice(0, 0, ...maskNodes);

  const pastShape = ['batch_size', 'pa_kv_heads', 'past_sequence_length', 'pa_head_dim'];
  const presentShape = ['batch_size', 'pa_kv_heads', 'total_sequence_length', 'pa_head_dim'];
  const axis2 = onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 2 });
  layers.forEach((layer, l) => {
    for (const [kind, tensor] of [
      ['key', layer.key],
      ['value', layer.value],
    ] as const) {
      const past = pastName(l, kind);
      const present = presentName(l, kind);
      for (const node of nodes) node.input = (node.input ?? []).map((name) => (name === tensor ? present : name));
      graph.input = [...(graph.input ?? []), makeValueInfo(past, floatType, pastShape)];
      graph.output = [...(graph.output ?? []), makeValueInfo(present, floatType, presentShape)];
      ops.insertAfter(tensor, [named('Concat', [past, tensor], present, [axis2])]);
    }
    if (!keepInput) return;
    const probs = layer.softmax.output?.[0] ?? '';
    const stats = ops.collect(() => {
      const asFloat = floatType === ElemType.FLOAT ? probs : ops.cast(probs, ElemType.FLOAT);
      // Mean over heads and queries as a ones-row MatMul over [b, heads·n, T] (a ReduceMean or ReduceSum over
      // the middle axes takes a slow strided path in onnxruntime: +50 % on the whole pass at 512 tokens).
      // Only the rows LAST_LAYER_ROWS_INPUT asks for: all in the whole prompt's pass, a few in the others.
      const selected = ops.node('Slice', [asFloat, rowsInput, end, ops.ints([2])]);
      const shape = ops.node('Shape', [selected]);
      const keys = ops.node('Slice', [shape, ops.ints([3]), ops.ints([4])]);
      const rows = ops.node('Reshape', [selected, ops.node('Concat', [ops.ints([0, -1]), keys], { axis: 0 })]);
      const count = ops.node('ReduceProd', [ops.node('Slice', [shape, ops.ints([1]), ops.ints([3])])], { keepdims: 1 });
      const ones = ops.node('Expand', [ops.float(1), ops.node('Concat', [ops.ints([1]), count], { axis: 0 })]);
      const summed = ops.node('MatMul', [ops.node('Div', [ones, ops.cast(count, ElemType.FLOAT)]), rows]);
      const received = ops.node('Squeeze', [summed, ops.ints([1])]);
      const kept = ops.node('Slice', [asFloat, keepInput, end, ops.ints([2])]);
      return [received, kept];
    });
    const [received, kept] = [stats[stats.length - 2], stats[stats.length - 1]].map((n) => n.output?.[0] ?? '');
    stats.push(named('Identity', [received], receivedName(l)), named('Identity', [kept], keptRowsName(l)));
    ops.insertAfter(probs, stats);
    graph.output = [
      ...(graph.output ?? []),
      makeValueInfo(receivedName(l), ElemType.FLOAT, null),
      makeValueInfo(keptRowsName(l), ElemType.FLOAT, null),
    ];
  });
  const lastLayerRows = sliceLastLayer(model, layers[layers.length - 1], rowsInput);
  // The export's own mask (built for no past) is left without readers: onnxruntime would still run it.
  pruneToOutputs(model, graph.output ?? []);
  const caches = layers.flatMap((_, l) =>
    (['key', 'value'] as const).map((kind) => ({ past: pastName(l, kind), present: presentName(l, kind) })),
  );
  return {
    layers: layers.length,
    caches,
    native: false,
    logits: 'logits',
    logitsKeep: keepInput !== null,
    attention: keepInput !== null,
    lastLayerRows,
  };
}

function insertBefore(nodes: NodeProto[], consumer: NodeProto, added: readonly NodeProto[]): void {
  nodes.splice(nodes.indexOf(consumer), 0, ...added);
}

/**
 * The last layer's queries only for the rows the LM head reads: its keys and values (the present) still come
 * from every row, but Q, the scores, the output projection, the residual and the MLP after it run on the last
 * R rows (R from LAST_LAYER_ROWS_INPUT): a quarter of a 4-layer model's work per ablation. False (unchanged)
 * unless the attention output reaches the residual Add as Transpose → Reshape → MatMul.
 */
function sliceLastLayer(model: ModelProto, layer: LayerMatch, rows: string): boolean {
  const graph = model.graph;
  const nodes = graph?.node;
  if (!graph || !nodes) return false;
  const consumers = consumersOf(nodes);
  const only = (tensor: string | undefined, opType: string): NodeProto | null => {
    const users = consumers.get(tensor ?? '') ?? [];
    return users.length === 1 && nodes[users[0]].opType === opType ? nodes[users[0]] : null;
  };
  const transpose = only(layer.valueMatMul.output?.[0], 'Transpose');
  const reshape = only(transpose?.output?.[0], 'Reshape');
  const project = only(reshape?.output?.[0], 'MatMul');
  const residual = only(project?.output?.[0], 'Add');
  const q = layer.scores.input?.[0];
  const mask = layer.add.input?.[layer.maskSide];
  if (!transpose || !reshape?.input?.[1] || !project || !residual || !q || !mask) return false;
  const skip = residual.input?.[0] === project.output?.[0] ? 1 : 0;
  const ops = graphOps(model, 'pa_last_rows');
  const end = ops.ints([2 ** 62]);
  let sliced = '';
  insertBefore(
    nodes,
    layer.scores,
    ops.collect(() => (sliced = ops.node('Slice', [q, rows, end, ops.ints([2])]))),
  );
  layer.scores.input = [sliced, ...(layer.scores.input ?? []).slice(1)];
  let slicedMask = '';
  insertBefore(
    nodes,
    layer.add,
    ops.collect(() => (slicedMask = ops.node('Slice', [mask, rows, end, ops.ints([2])]))),
  );
  (layer.add.input as string[])[layer.maskSide] = slicedMask;
  // The merged heads' shape: the sequence axis now has R rows, the rest as the export computed it.
  const target = reshape.input[1];
  let newTarget = '';
  insertBefore(
    nodes,
    reshape,
    ops.collect(() => {
      const rowsDim = ops.node('Slice', [ops.node('Shape', [sliced]), ops.ints([2]), ops.ints([3])]);
      const batch = ops.node('Slice', [target, ops.ints([0]), ops.ints([1])]);
      const rest = ops.node('Slice', [target, ops.ints([2]), end]);
      newTarget = ops.node('Concat', [batch, rowsDim, rest], { axis: 0 });
    }),
  );
  reshape.input = [reshape.input[0], newTarget];
  const input = residual.input?.[skip] ?? '';
  let slicedInput = '';
  insertBefore(
    nodes,
    residual,
    ops.collect(() => (slicedInput = ops.node('Slice', [input, rows, end, ops.ints([1])]))),
  );
  (residual.input as string[])[skip] = slicedInput;
  return true;
}
