// Finds each layer's post-rotary Q and K in an ONNX export the engine did not build itself, as AttentionSites
// (attentionSite.ts), so exact attention rows can be recomputed from them after the run (rows on demand)
// and the statistics need not read every head's probabilities:
// - torch-style exports (a Softmax feeding the MatMul with V): the inputs of the QKᵀ MatMul upstream of the
//   Softmax. The path between them may hold the mask Add, Casts and Div/Mul by a constant (the scale); the
//   key input is un-transposed, and torch's repeat_kv (Unsqueeze → Expand → Reshape) is looked through so K
//   keeps one head per KV head;
// - com.microsoft.GroupQueryAttention: its query (packed QKV split here) and key inputs, reshaped to
//   [1, heads, n, d], with the rotary it applies (do_rotary, half split, cos/sin caches at positions 0..n−1
//   or its position_ids) rebuilt from plain ops.
// A graph where any layer's Q/K cannot be found gets no sites (null): the probability tap stays the source.
import { halfToFloatTable } from '../analysis/halfFloat';
import type { AttentionSite } from './attentionSite';
import type { GraphOps } from './graphOps';
import { graphOps } from './graphOps';
import type { ModelProto, NodeProto } from './onnxGraph';
import { producersOf, toNumber } from './onnxGraph';

export interface SiteShape {
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
}

const FLOAT = 1;
const FLOAT16 = 10;
/** Ops that may sit between QKᵀ and the Softmax without changing which Q and K it reads. */
const SCORE_PATH_OPS = new Set(['Add', 'Cast', 'Div', 'Mul', 'Where', 'Identity']);

interface Graph {
  readonly model: ModelProto;
  readonly nodes: NodeProto[];
  readonly producers: Map<string, number>;
}

const producer = (g: Graph, tensor: string): NodeProto | undefined => {
  const at = g.producers.get(tensor);
  return at === undefined ? undefined : g.nodes[at];
};

/** A scalar float constant (initializer or Constant node), else null. */
function scalarConstant(g: Graph, tensor: string): number | null {
  const init = (g.model.graph?.initializer ?? []).find((t) => t.name === tensor);
  const node = producer(g, tensor);
  const t = init ?? (node?.opType === 'Constant' ? node.attribute?.find((a) => a.name === 'value')?.t : undefined);
  if (!t) return null;
  const count = (t.dims ?? []).reduce((a: number, d) => a * toNumber(d), 1);
  if (count !== 1) return null;
  if (t.floatData && t.floatData.length > 0) return t.floatData[0];
  const raw = t.rawData;
  if (!raw) return null;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (t.dataType === FLOAT && raw.length >= 4) return view.getFloat32(0, true);
  if (t.dataType === FLOAT16 && raw.length >= 2) return halfToFloatTable()[view.getUint16(0, true)];
  // fp16 Constants may hold their bits in int32Data.
  if (t.dataType === FLOAT16 && t.int32Data && t.int32Data.length > 0) return halfToFloatTable()[t.int32Data[0]];
  return null;
}

function intsAttribute(node: NodeProto, name: string): number[] | null {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.ints ? a.ints.map((v) => toNumber(v)) : null;
}

function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return a?.i === undefined || a.i === null ? fallback : toNumber(a.i);
}

function floatAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute?.find((x) => x.name === name);
  return typeof a?.f === 'number' ? a.f : fallback;
}

/** The Softmax behind a tap tensor (the tap may be a Cast of it to float32). */
function softmaxOf(g: Graph, tap: string): NodeProto | null {
  let node = producer(g, tap);
  if (node?.opType === 'Cast') node = producer(g, node.input?.[0] ?? '');
  return node?.opType === 'Softmax' ? node : null;
}

/** Walks from the Softmax's input to the QKᵀ MatMul; returns it and the scale applied on the way. */
function scoreMatMul(g: Graph, softmax: NodeProto): { matmul: NodeProto; scale: number } | null {
  let tensor = softmax.input?.[0] ?? '';
  let scale = 1;
  for (let hop = 0; hop < 8; hop++) {
    const node = producer(g, tensor);
    if (!node) return null;
    if (node.opType === 'MatMul') return { matmul: node, scale };
    if (!SCORE_PATH_OPS.has(node.opType ?? '')) return null;
    const inputs = node.input ?? [];
    if (node.opType === 'Div' || node.opType === 'Mul') {
      const c = scalarConstant(g, inputs[1] ?? '');
      if (c === null || c === 0) return null;
      scale = node.opType === 'Div' ? scale / c : scale * c;
      tensor = inputs[0];
    } else if (node.opType === 'Add') {
      // The mask is the operand that does not lead back to a MatMul within a few hops.
      tensor = reachesMatMul(g, inputs[0]) ? inputs[0] : inputs[1];
    } else if (node.opType === 'Where') {
      tensor = inputs[2] ?? '';
    } else {
      tensor = inputs[0];
    }
  }
  return null;
}

function reachesMatMul(g: Graph, tensor: string): boolean {
  let current = tensor;
  for (let hop = 0; hop < 4; hop++) {
    const node = producer(g, current);
    if (!node) return false;
    if (node.opType === 'MatMul') return true;
    if (!SCORE_PATH_OPS.has(node.opType ?? '')) return false;
    current = node.input?.[0] ?? '';
  }
  return false;
}

/** K [1, kv, n, d] from QKᵀ's second input [1, heads, d, n]: un-transposed, repeat_kv looked through. */
function keysOf(g: Graph, ops: GraphOps, keyT: string, shape: SiteShape): { k: string; kvHeads: number } {
  const transpose = producer(g, keyT);
  const perm = transpose?.opType === 'Transpose' ? intsAttribute(transpose, 'perm') : null;
  if (!transpose || !perm || perm.join() !== '0,1,3,2')
    return { k: ops.node('Transpose', [keyT], { perm: [0, 1, 3, 2] }), kvHeads: shape.heads };
  const expanded = transpose.input?.[0] ?? '';
  const reshape = producer(g, expanded);
  const expand = reshape?.opType === 'Reshape' ? producer(g, reshape.input?.[0] ?? '') : undefined;
  const unsqueeze = expand?.opType === 'Expand' ? producer(g, expand.input?.[0] ?? '') : undefined;
  if (unsqueeze?.opType === 'Unsqueeze' && shape.kvHeads < shape.heads)
    return { k: unsqueeze.input?.[0] ?? '', kvHeads: shape.kvHeads };
  return { k: expanded, kvHeads: shape.heads };
}

interface Found {
  readonly site: AttentionSite;
  /** The node whose inputs the site reads: its nodes go right before it. */
  readonly before: NodeProto;
}

function torchSite(g: Graph, ops: GraphOps, tap: string, layer: number, shape: SiteShape): Found | null {
  const softmax = softmaxOf(g, tap);
  if (!softmax) return null;
  const found = scoreMatMul(g, softmax);
  if (!found) return null;
  const [q, keyT] = found.matmul.input ?? [];
  if (!q || !keyT) return null;
  const { k, kvHeads } = keysOf(g, ops, keyT, shape);
  const site: AttentionSite = {
    layer,
    q: ops.cast(q, FLOAT),
    k: ops.cast(k, FLOAT),
    heads: shape.heads,
    kvHeads,
    headDim: shape.headDim,
    scale: found.scale,
    slidingWindow: null,
    softcap: null,
  };
  return { site, before: found.matmul };
}

/** [1, n, count·d] → [1, count, n, d]. */
function toHeads(ops: GraphOps, x: string, count: number, d: number): string {
  return ops.node('Transpose', [ops.node('Reshape', [x, ops.ints([0, 0, count, d])])], { perm: [0, 2, 1, 3] });
}

/** HF rotate_half rotary on the first 2·half dims of x [1, h, n, d]; cos/sin [n, half] (or [1, n, half]). */
function rotary(ops: GraphOps, x: string, cos: string, sin: string, half: number, d: number): string {
  const axis = ops.ints([-1]);
  const part = (from: number, to: number): string => ops.node('Slice', [x, ops.ints([from]), ops.ints([to]), axis]);
  const x1 = part(0, half);
  const x2 = part(half, 2 * half);
  const out = [
    ops.node('Sub', [ops.node('Mul', [x1, cos]), ops.node('Mul', [x2, sin])]),
    ops.node('Add', [ops.node('Mul', [x2, cos]), ops.node('Mul', [x1, sin])]),
  ];
  if (2 * half < d) out.push(part(2 * half, d));
  return ops.node('Concat', out, { axis: -1 });
}

function gqaSite(g: Graph, ops: GraphOps, node: NodeProto, layer: number, shape: SiteShape): Found | null {
  const inputs = node.input ?? [];
  const heads = intAttribute(node, 'num_heads', shape.heads);
  const kvHeads = intAttribute(node, 'kv_num_heads', shape.kvHeads);
  const d = shape.headDim;
  if (intAttribute(node, 'rotary_interleaved', 0) !== 0) return null;
  let query = ops.cast(inputs[0], FLOAT);
  const packed = query;
  const axis = ops.ints([-1]);
  let key: string;
  if (inputs[1]) key = ops.cast(inputs[1], FLOAT);
  else {
    key = ops.node('Slice', [query, ops.ints([heads * d]), ops.ints([(heads + kvHeads) * d]), axis]);
    query = ops.node('Slice', [query, ops.ints([0]), ops.ints([heads * d]), axis]);
  }
  // Only where the statistics make the operator's output (below).
  const values = (): string =>
    inputs[1]
      ? ops.cast(inputs[2], FLOAT)
      : ops.node('Slice', [packed, ops.ints([(heads + kvHeads) * d]), ops.ints([(heads + 2 * kvHeads) * d]), axis]);
  let q = toHeads(ops, query, heads, d);
  let k = toHeads(ops, key, kvHeads, d);
  if (intAttribute(node, 'do_rotary', 0) === 1) {
    const cosCache = inputs[7];
    const sinCache = inputs[8];
    const half = cacheHalfWidth(g, cosCache ?? '');
    if (!cosCache || !sinCache || half === null) return null;
    const positions = inputs[9]
      ? ops.node('Reshape', [inputs[9], ops.ints([-1])])
      : ops.node('Range', [
          ops.scalar(0),
          ops.node('Gather', [ops.node('Shape', [q]), ops.scalar(2)], { axis: 0 }),
          ops.scalar(1),
        ]);
    const cos = ops.cast(ops.node('Gather', [cosCache, positions], { axis: 0 }), FLOAT);
    const sin = ops.cast(ops.node('Gather', [sinCache, positions], { axis: 0 }), FLOAT);
    q = rotary(ops, q, cos, sin, half, d);
    k = rotary(ops, k, cos, sin, half, d);
  }
  const scale = floatAttribute(node, 'scale', 0);
  const softcap = floatAttribute(node, 'softcap', 0);
  const window = intAttribute(node, 'local_window_size', -1);
  const site: AttentionSite = {
    layer,
    q,
    k,
    heads,
    kvHeads,
    headDim: d,
    scale: scale === 0 ? 1 / Math.sqrt(d) : scale,
    slidingWindow: window > 0 ? window : null,
    softcap: softcap > 0 ? softcap : null,
    // The statistics can make the operator's output (P·V) and drop it: from opset 15, where CastLike gives the
    // output the operator's own element type.
    ...(opsetOf(g.model) >= 15 && node.output?.[0]
      ? { v: toHeads(ops, values(), kvHeads, d), context: node.output[0], contextLike: inputs[0] }
      : {}),
  };
  return { site, before: node };
}

/** The graph's default-domain opset. */
const opsetOf = (model: ModelProto): number => Number((model.opsetImport ?? []).find((o) => !o.domain)?.version ?? 0);

/** The cos cache's second dimension (rotary_dim / 2), from its initializer. */
function cacheHalfWidth(g: Graph, tensor: string): number | null {
  const init = (g.model.graph?.initializer ?? []).find((t) => t.name === tensor);
  const dims = init?.dims?.map((v) => toNumber(v));
  return dims && dims.length === 2 ? dims[1] : null;
}

/**
 * Adds the nodes that produce each layer's float32 Q [1, heads, n, d] and K [1, kvHeads, n, d] (nothing for
 * a torch-style export beyond Casts) and returns the sites, or null when a layer's Q/K cannot be found (the
 * graph's nodes are then left as they were). `taps` are the plan's outputs, in layer order.
 */
export function findAttentionSites(
  model: ModelProto,
  taps: readonly string[],
  shape: SiteShape,
): AttentionSite[] | null {
  const graph = model.graph;
  if (!graph) return null;
  const nodes = graph.node ?? [];
  const g: Graph = { model, nodes, producers: producersOf(nodes) };
  const ops = graphOps(model, 'pa_site');
  const found: { site: AttentionSite; before: NodeProto; nodes: NodeProto[] }[] = [];
  for (let layer = 0; layer < taps.length; layer++) {
    let tapNode = producer(g, taps[layer]);
    if (tapNode?.opType === 'Cast') tapNode = producer(g, tapNode.input?.[0] ?? ''); // a half-precision tap
    let hit = null as Found | null; // assigned inside the callback
    const built = ops.collect(() => {
      if (tapNode?.opType === 'GroupQueryAttention' && tapNode.domain === 'com.microsoft')
        hit = gqaSite(g, ops, tapNode, layer, shape);
      else hit = torchSite(g, ops, taps[layer], layer, shape);
    });
    if (!hit) return null;
    found.push({ site: hit.site, before: hit.before, nodes: built });
  }
  // Only now that every layer has a site is the graph changed: each layer's nodes go right before the node
  // that reads its Q and K (their inputs exist by then, and whatever reads the site comes later).
  for (const f of found) nodes.splice(nodes.indexOf(f.before), 0, ...f.nodes);
  return found.map((f) => f.site);
}

/** Element type the kept Q and K leave the graph in: fp16 halves what the worker holds after the run. */
export type SiteStorage = 'float16' | 'float32';

/**
 * Inserts each site's kept Q and K (cast to fp16 for 'float16', right after the tensors they read); returns the
 * sites naming them. The statistics' long-range top reads these too (attentionStatsGraph.ts).
 */
export function castSites(
  model: ModelProto,
  sites: readonly AttentionSite[],
  storage: SiteStorage,
  keyStorage: SiteStorage = storage,
): AttentionSite[] {
  const ops = graphOps(model, 'pa_kept');
  return sites.map((site) => {
    const kept = (tensor: string, as: SiteStorage): string => {
      if (as === 'float32') return tensor;
      let name = '';
      const nodes = ops.collect(() => (name = ops.cast(tensor, FLOAT16)));
      ops.insertAfter(tensor, nodes);
      return name;
    };
    return { ...site, q: kept(site.q, storage), k: kept(site.k, keyStorage) };
  });
}

/**
 * Makes each site's Q and K graph outputs (cast to fp16 for 'float16', or the casts castSites made: `kept`);
 * returns the sites naming those outputs.
 */
export function exposeSites(
  model: ModelProto,
  sites: readonly AttentionSite[],
  storage: SiteStorage,
  keyStorage: SiteStorage = storage,
  kept: readonly AttentionSite[] = castSites(model, sites, storage, keyStorage),
): AttentionSite[] {
  const ops = graphOps(model, 'pa_rows');
  sites.forEach((site, l) => {
    const casts = [kept[l].q, kept[l].k].filter((name, i) => name !== (i === 0 ? site.q : site.k));
    castBeforeStatistics(ops, model, site, casts);
  });
  ops.expose(kept.flatMap((site) => [site.q, site.k]));
  return [...kept];
}

/**
 * A Cast that only a graph output reads runs last in onnxruntime's order, so every layer's float32 Q stayed
 * alive until the end of the run (24 × 28 MiB at 8,192 tokens on the 0.5B shape). The layer's statistics If
 * (what makes its attention output, AttentionSite.context) is made to wait for the casts: its condition also
 * reads their shapes (true at run time), and the float32 tensors are freed once the statistics are done.
 */
function castBeforeStatistics(ops: GraphOps, model: ModelProto, site: AttentionSite, casts: readonly string[]): void {
  const all = model.graph?.node ?? [];
  if (casts.length === 0 || site.context === undefined) return;
  const producers = producersOf(all);
  let at = producers.get(site.context);
  // Through the CastLike (or Identity) between the If and the attention output.
  for (let hops = 0; at !== undefined && hops < 3 && all[at].opType !== 'If'; hops++)
    at = producers.get(all[at].input?.[0] ?? '');
  const statistics = at === undefined ? undefined : all[at];
  if (statistics?.opType !== 'If' || !statistics.input?.[0]) return;
  const condition = statistics.input[0];
  let gated = '';
  const nodes = ops.collect(() => {
    const zeros = casts.map((c) =>
      ops.node('Mul', [ops.node('Gather', [ops.node('Shape', [c]), ops.ints([0])], { axis: 0 }), ops.ints([0])]),
    );
    const zero = zeros.reduce((a, b) => ops.node('Add', [a, b]));
    gated = ops.node('And', [condition, ops.node('Equal', [zero, ops.ints([0])])]);
  });
  all.splice(all.indexOf(statistics), 0, ...nodes);
  statistics.input[0] = gated;
}

/**
 * When every tap is a GroupQueryAttention's probabilities output (qk_output=2), takes that output away again,
 * so the operator runs fused (and on any provider); returns each layer's attention output, which the
 * statistics recomputed from the sites go after. Otherwise changes nothing and returns null.
 */
export function unfuseAttention(model: ModelProto, taps: readonly string[]): string[] | null {
  const nodes = model.graph?.node ?? [];
  const g: Graph = { model, nodes, producers: producersOf(nodes) };
  const fused = taps.map((tap) => {
    const node = producer(g, tap);
    return node?.opType === 'GroupQueryAttention' && node.domain === 'com.microsoft' && node.output?.[3] === tap
      ? node
      : null;
  });
  if (fused.some((node) => node === null)) return null;
  const gone = new Set(taps);
  if (model.graph) model.graph.output = (model.graph.output ?? []).filter((o) => !gone.has(o.name ?? ''));
  return fused.map((node) => {
    const n = node as NodeProto;
    n.attribute = (n.attribute ?? []).filter((a) => a.name !== 'qk_output');
    n.output = (n.output ?? []).slice(0, 3);
    return n.output[0];
  });
}
