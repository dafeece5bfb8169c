// Finds each self-attention block's probabilities in a decoded ONNX graph and exposes them as graph outputs,
// in layer order: the Softmax whose output (possibly through Cast nodes) feeds the MatMul with V, or the
// probabilities output of a fused attention operator (fusedAttention.ts). Merged decoders hold the whole
// decoder inside the two branches of an If: the taps are then brought out through the If's outputs.
// Half-precision probabilities are cast to float32 in the graph, so what leaves it is always float32.
import type { ModelProto, NodeProto, ValueInfoProto } from './onnxGraph';
import { consumersOf, ElemType, makeValueInfo, valueElemType, valueShape } from './onnxGraph';
import { CPU_ONLY_REASON, exposeFusedProbabilities, isUnreadableFused, readableFusedKind } from './fusedAttention';
import { EngineError } from '../engineError';
import { onnx } from 'onnx-proto';

type GraphProto = onnx.IGraphProto;

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
  /** One line, when the tapped graph gives its probabilities only on the CPU provider. */
  readonly cpuOnly?: string;
  /** What the weights hold, read from the graph (for files whose name does not say). */
  readonly weightsDtype?: string;
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

interface Tap {
  readonly tensor: string;
  readonly position: number;
  readonly layer: number | null;
}

interface Scan {
  readonly taps: Tap[];
  readonly cpuOnly: string | null;
}

interface TapContext {
  readonly fileLabel: string;
  /** Cast the probabilities to float32 (a half-precision graph). */
  readonly toFloat: boolean;
  readonly unique: (base: string) => string;
}

function castNode(input: string, output: string): NodeProto {
  const node = onnx.NodeProto.create({ name: output, opType: 'Cast', input: [input], output: [output] });
  node.attribute = [
    onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: ElemType.FLOAT }),
  ];
  return node;
}

/** Finds (and, for fused operators, creates) the probability tensors of one graph's own nodes. */
function scanGraph(graph: GraphProto, context: TapContext): Scan {
  const nodes = graph.node ?? [];
  const refused = nodes.find(isUnreadableFused);
  if (refused) {
    throw new AttentionTapError(
      `${context.fileLabel} uses the fused attention operator ${describeOp(refused)}, whose probabilities cannot be read; export the model without attention fusion (e.g. optimum with --no-post-process / no ORT transformer optimizations).`,
    );
  }
  const consumers = consumersOf(nodes);
  const taps: Tap[] = [];
  const added: NodeProto[] = [];
  let cpuOnly: string | null = null;
  const expose = (tensor: string, position: number, node: NodeProto): void => {
    let out = tensor;
    if (context.toFloat) {
      out = context.unique(`${tensor}/float32`);
      added.push(castNode(tensor, out));
    }
    taps.push({ tensor: out, position, layer: layerFromName(node.name) ?? layerFromName(tensor) });
  };
  nodes.forEach((node, position) => {
    const kind = readableFusedKind(node);
    if (kind) {
      const exposed = exposeFusedProbabilities(
        node,
        kind,
        context.unique,
        context.toFloat ? ElemType.FLOAT16 : ElemType.FLOAT,
      );
      added.push(...exposed.added);
      graph.valueInfo = [...(graph.valueInfo ?? []), ...exposed.typed];
      cpuOnly = cpuOnly ?? CPU_ONLY_REASON[kind] ?? null;
      expose(exposed.tensor, position, node);
      return;
    }
    if (node.opType !== 'Softmax' || (node.domain ?? '') !== '') return;
    const tensor = node.output?.[0];
    if (tensor && feedsValueMatMul(tensor, nodes, consumers)) expose(tensor, position, node);
  });
  graph.node = [...nodes, ...added];
  return { taps, cpuOnly };
}

function orderTaps(taps: Tap[]): Tap[] {
  // Nodes are topologically sorted; the layer index in the node name, when every tap has a distinct one, wins.
  const named = taps.every((t) => t.layer !== null) && new Set(taps.map((t) => t.layer)).size === taps.length;
  return [...taps].sort((a, b) => (named ? (a.layer as number) - (b.layer as number) : a.position - b.position));
}

function branch(node: NodeProto, name: string): GraphProto | null {
  return (node.attribute ?? []).find((a) => a.name === name)?.g ?? null;
}

/**
 * A merged decoder: taps the attention inside an If's branches and outputs them through the If. The
 * branch that runs on a prefill (use_cache_branch=false: else) must have them; a branch without gives zeros.
 */
function scanIfBranches(graph: GraphProto, context: TapContext): Scan | null {
  for (const node of graph.node ?? []) {
    if (node.opType !== 'If') continue;
    const thenGraph = branch(node, 'then_branch');
    const elseGraph = branch(node, 'else_branch');
    if (!thenGraph || !elseGraph) continue;
    const thenScan = scanGraph(thenGraph, context);
    const elseScan = scanGraph(elseGraph, context);
    const prefill = node.input?.[0] === 'use_cache_branch' ? [elseScan] : [thenScan, elseScan];
    const count = Math.max(thenScan.taps.length, elseScan.taps.length);
    if (count === 0 || prefill.some((s) => s.taps.length !== count)) continue;
    const thenTaps = orderTaps(thenScan.taps);
    const elseTaps = orderTaps(elseScan.taps);
    const outputs: string[] = [];
    for (let i = 0; i < count; i++) {
      for (const [sub, taps] of [
        [thenGraph, thenTaps],
        [elseGraph, elseTaps],
      ] as const) {
        let tensor = taps[i]?.tensor;
        if (!tensor) {
          tensor = context.unique(`${node.name ?? 'If'}/no_attention.${i}`);
          const zeros = onnx.TensorProto.create({ dims: [1, 1, 1, 1], dataType: ElemType.FLOAT, floatData: [0] });
          sub.node = [
            ...(sub.node ?? []),
            onnx.NodeProto.create({
              name: tensor,
              opType: 'Constant',
              output: [tensor],
              attribute: [
                onnx.AttributeProto.create({ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: zeros }),
              ],
            }),
          ];
        }
        sub.output = [...(sub.output ?? []), makeValueInfo(tensor, ElemType.FLOAT, null)];
      }
      outputs.push(context.unique(`${node.name || 'If'}/attention.${i}`));
    }
    node.output = [...(node.output ?? []), ...outputs];
    const cpuOnly = thenScan.cpuOnly ?? elseScan.cpuOnly;
    return { taps: outputs.map((tensor, i) => ({ tensor, position: i, layer: i })), cpuOnly };
  }
  return null;
}

/** FLOAT16 for half-precision exports (logits, the cache or most weights in fp16), else FLOAT. */
export function graphFloatType(model: ModelProto): number {
  const graph = model.graph;
  const logits = (graph?.output ?? []).find((o) => o.name === 'logits');
  if (logits && valueElemType(logits)) return valueElemType(logits);
  const past = (graph?.input ?? []).find((i) => /^past/.test(i.name ?? ''));
  if (past && valueElemType(past)) return valueElemType(past);
  let half = 0;
  let full = 0;
  for (const t of graph?.initializer ?? []) {
    if (t.dataType === ElemType.FLOAT16) half++;
    else if (t.dataType === ElemType.FLOAT) full++;
  }
  return half > full ? ElemType.FLOAT16 : ElemType.FLOAT;
}

function allNodes(graph: GraphProto, into: NodeProto[] = []): NodeProto[] {
  for (const node of graph.node ?? []) {
    into.push(node);
    for (const attr of node.attribute ?? [])
      for (const sub of attr.g ? [attr.g] : (attr.graphs ?? [])) allNodes(sub, into);
  }
  return into;
}

/** fp32 / fp16, q4 / q4f16 (MatMulNBits), q8 (MatMulInteger or DynamicQuantizeLinear), from the graph's ops. */
export function weightsDtype(model: ModelProto): string {
  const ops = new Set(allNodes(model.graph ?? {}).map((n) => n.opType ?? ''));
  const half = graphFloatType(model) === ElemType.FLOAT16;
  if (ops.has('MatMulNBits') || ops.has('MatMulBnb4')) return ops.has('MatMulBnb4') ? 'bnb4' : half ? 'q4f16' : 'q4';
  if (ops.has('MatMulInteger') || ops.has('DynamicQuantizeLinear') || ops.has('QLinearMatMul')) return 'q8';
  return half ? 'fp16' : 'fp32';
}

function tensorNames(graph: GraphProto, into: Set<string>): Set<string> {
  for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) if (v.name) into.add(v.name);
  for (const t of graph.initializer ?? []) if (t.name) into.add(t.name);
  for (const node of graph.node ?? []) {
    for (const name of node.output ?? []) if (name) into.add(name);
    for (const attr of node.attribute ?? [])
      for (const sub of attr.g ? [attr.g] : (attr.graphs ?? [])) tensorNames(sub, into);
  }
  return into;
}

/**
 * Decides how to read attention from `model` and, when tapping, adds the outputs to it (mutates).
 * `layers` comes from config.json; the number of taps must equal it.
 */
export function planAttentionTap(model: ModelProto, layers: number, fileLabel: string): AttentionTapPlan {
  const graph = model.graph;
  if (!graph) throw new AttentionTapError(`${fileLabel} has no graph.`);

  const existing = existingAttentionOutputs(graph.output ?? []);
  const dtype = weightsDtype(model);
  if (existing.length === layers && layers > 0) return { kind: 'existing', outputNames: existing, weightsDtype: dtype };

  const names = tensorNames(graph, new Set());
  const unique = (base: string): string => {
    let name = base;
    for (let i = 1; names.has(name); i++) name = `${base}_${i}`;
    names.add(name);
    return name;
  };
  const context: TapContext = { fileLabel, toFloat: graphFloatType(model) === ElemType.FLOAT16, unique };
  let scan = scanGraph(graph, context);
  if (scan.taps.length === 0) scan = scanIfBranches(graph, context) ?? scan;
  const taps = scan.taps;

  if (taps.length === 0) {
    throw new AttentionTapError(
      `${fileLabel} has no attention Softmax feeding a MatMul with the values; cannot read attention from this graph.`,
    );
  }
  if (taps.length !== layers) {
    throw new AttentionTapError(
      `${fileLabel} has ${taps.length} attention Softmax nodes but config.json says ${layers} layers; cannot map attention to layers.`,
    );
  }
  const ordered = orderTaps(taps);
  const already = new Set((graph.output ?? []).map((o) => o.name));
  // No element type: ORT infers it (float32; half-precision taps were cast above).
  const added = ordered.filter((t) => !already.has(t.tensor)).map((t) => makeValueInfo(t.tensor, 0, null));
  graph.output = [...(graph.output ?? []), ...added];
  return {
    kind: 'tapped',
    outputNames: ordered.map((t) => t.tensor),
    weightsDtype: dtype,
    ...(scan.cpuOnly ? { cpuOnly: scan.cpuOnly } : {}),
  };
}
