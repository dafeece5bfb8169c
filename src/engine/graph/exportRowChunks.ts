// Runs an ONNX export's row-wise MLPs in chunks of rows, as the engine's own GGUF graphs do (ggufDecoder.ts,
// ModelBuilder.rowChunks): an export computes each layer's MLP on whole [n, intermediate] tensors (gate, up,
// the activation and the product; 152 MiB each at 8,192 tokens on the 0.5B shape), and onnxruntime's arena
// keeps the largest set it ever held. In a Loop over chunks of EXPORT_MLP_ROWS rows those tensors are
// [rows, intermediate]; an input of at most one chunk runs whole, unpadded, in one trip.
//
// A region is found from a tensor X read by a projection (MatMulNBits, or MatMul with constant weights) and
// grown over the nodes whose every input is X, a constant or a region tensor: more projections, elementwise
// activations, products and sums with constants that broadcast along rows. It is taken when it has at least
// two projections and exactly one tensor leaves it, made by a projection (the down projection). Anything else
// (the attention's QKV projection, an operator reading other rows) stays as it is: nothing is refused.
import type { onnx } from 'onnx-proto';
import { graphOps } from './graphOps';
import type { GraphOps } from './graphOps';
import type { ModelProto, NodeProto } from './onnxGraph';
import { consumersOf, toNumber } from './onnxGraph';

/** Rows per chunk: the GGUF graphs' MLP_ROWS (one chunk up to 2,048 tokens, so short inputs pay nothing). */
export const EXPORT_MLP_ROWS = 2048;

/** Elementwise ops that work row by row (with row-broadcasting constants for the binary ones). */
export const UNARY_ROW_OPS = new Set([
  'Sigmoid',
  'Tanh',
  'Relu',
  'Erf',
  'Gelu',
  'FastGelu',
  'QuickGelu',
  'Softplus',
  'Neg',
  'Exp',
  'Sqrt',
  'Abs',
  'Cast',
  'Identity',
]);
export const BINARY_ROW_OPS = new Set(['Mul', 'Add', 'Sub', 'Div', 'Pow']);

interface Region {
  readonly x: string;
  /** Indices in graph.node, in graph order. */
  readonly nodes: number[];
  readonly y: string;
  readonly inWidth: number;
  readonly outWidth: number;
}

/** Constant tensors: initializers and Constant nodes' outputs, with their dims. */
export function constantDims(graph: onnx.IGraphProto): Map<string, number[]> {
  const dims = new Map<string, number[]>();
  for (const t of graph.initializer ?? []) dims.set(t.name ?? '', (t.dims ?? []).map(toNumber));
  for (const node of graph.node ?? [])
    if (node.opType === 'Constant' && node.output?.[0]) {
      const t = (node.attribute ?? []).find((a) => a.name === 'value')?.t;
      if (t) dims.set(node.output[0], (t.dims ?? []).map(toNumber));
    }
  return dims;
}

/** [in, out] widths of a projection reading its input 0 with constant weights, else null. */
export function projection(node: NodeProto, constants: Map<string, number[]>): [number, number] | null {
  const inputs = node.input ?? [];
  if (inputs.slice(1).some((i) => i !== '' && !constants.has(i))) return null;
  if (node.opType === 'MatMulNBits' && node.domain === 'com.microsoft') {
    const attr = (name: string): number => toNumber((node.attribute ?? []).find((a) => a.name === name)?.i);
    return attr('K') > 0 && attr('N') > 0 ? [attr('K'), attr('N')] : null;
  }
  if (node.opType === 'MatMul' && (node.domain ?? '') === '' && inputs.length === 2) {
    const w = constants.get(inputs[1]);
    return w?.length === 2 ? [w[0], w[1]] : null;
  }
  return null;
}

/** Whether `node` works row by row on region tensors (`inside`), reading nothing else but constants. */
function rowWise(node: NodeProto, inside: Set<string>, constants: Map<string, number[]>): boolean {
  const inputs = (node.input ?? []).filter((i) => i !== '');
  if ((node.attribute ?? []).some((a) => a.g || (a.graphs ?? []).length > 0)) return false;
  if (projection(node, constants)) return inside.has(inputs[0]);
  const domainOk = (node.domain ?? '') === '' || node.domain === 'com.microsoft';
  if (!domainOk || (node.output ?? []).length !== 1) return false;
  if (UNARY_ROW_OPS.has(node.opType ?? '')) return inputs.length >= 1 && inside.has(inputs[0]) && inputs.length === 1;
  if (!BINARY_ROW_OPS.has(node.opType ?? '') || inputs.length !== 2 || !inputs.some((i) => inside.has(i))) return false;
  // A constant operand must broadcast along rows: every dimension but the last is 1.
  return inputs.every((i) => inside.has(i) || (constants.get(i)?.slice(0, -1) ?? [0]).every((d) => d === 1));
}

function findRegions(model: ModelProto): Region[] {
  const graph = model.graph;
  const nodes = graph?.node ?? [];
  if (!graph) return [];
  const constants = constantDims(graph);
  const consumers = consumersOf(nodes);
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const regions: Region[] = [];
  const taken = new Set<number>();
  const starts = new Set<string>();
  nodes.forEach((node) => {
    if (projection(node, constants) && node.input?.[0]) starts.add(node.input[0]);
  });
  for (const x of starts) {
    const inside = new Set([x]);
    const region = new Set<number>();
    const frontier = [x];
    while (frontier.length > 0) {
      for (const at of consumers.get(frontier.pop() as string) ?? []) {
        if (region.has(at) || taken.has(at) || !rowWise(nodes[at], inside, constants)) continue;
        region.add(at);
        for (const o of nodes[at].output ?? []) {
          inside.add(o);
          frontier.push(o);
        }
      }
    }
    const sorted = [...region].sort((a, b) => a - b);
    const leaving = sorted.flatMap((at) =>
      (nodes[at].output ?? []).filter(
        (o) => graphOutputs.has(o) || (consumers.get(o) ?? []).some((c) => !region.has(c)),
      ),
    );
    const projections = sorted.filter((at) => projection(nodes[at], constants));
    if (projections.length < 2 || leaving.length !== 1) continue;
    const last = sorted.find((at) => nodes[at].output?.[0] === leaving[0]);
    const first = projection(nodes[projections[0]], constants);
    const out = last === undefined ? null : projection(nodes[last], constants);
    if (!first || !out) continue;
    // Every projection reading X must agree on its width.
    if (sorted.some((at) => nodes[at].input?.[0] === x && projection(nodes[at], constants)?.[0] !== first[0])) continue;
    for (const at of sorted) taken.add(at);
    regions.push({ x, nodes: sorted, y: leaving[0], inWidth: first[0], outWidth: out[1] });
  }
  return regions;
}

/** The region's nodes as a chunk's body: X read as `chunk`, every tensor they make renamed (suffix). */
function bodyNodes(nodes: readonly NodeProto[], region: Region, chunk: string, suffix: string): NodeProto[] {
  const renamed = new Map<string, string>([[region.x, chunk]]);
  for (const at of region.nodes) for (const o of nodes[at].output ?? []) renamed.set(o, `${o}${suffix}`);
  return region.nodes.map((at) => {
    const node = nodes[at];
    return {
      ...node,
      name: `${node.name ?? node.output?.[0] ?? 'node'}${suffix}`,
      input: (node.input ?? []).map((i) => renamed.get(i) ?? i),
      output: (node.output ?? []).map((o) => renamed.get(o) ?? o),
    };
  });
}

/** The Loop over row chunks that replaces `region`; its nodes, ending in one that makes region.y. */
function chunkedRegion(ops: GraphOps, nodes: readonly NodeProto[], region: Region, rows: number): NodeProto[] {
  return ops.collect(() => {
    const x2 = ops.node('Reshape', [region.x, ops.ints([-1, region.inWidth])]);
    const n = ops.node('Gather', [ops.node('Shape', [x2]), ops.ints([0])], { axis: 0 }); // [1]
    const size = ops.node('Max', [ops.node('Min', [n, ops.ints([rows])]), ops.ints([1])]);
    const trips = ops.node('Div', [ops.node('Add', [n, ops.node('Sub', [size, ops.ints([1])])]), size]);
    const pads = ops.node(
      'Concat',
      [ops.ints([0, 0]), ops.node('Sub', [ops.node('Mul', [trips, size]), n]), ops.ints([0])],
      {
        axis: 0,
      },
    );
    const padded = ops.node('Pad', [x2, pads]);
    const [scan] = ops.loop(ops.node('Reshape', [trips, ops.ints([])]), [], (iteration) => {
      const start = ops.node('Mul', [ops.node('Reshape', [iteration, ops.ints([1])]), size]);
      const chunk = ops.node('Slice', [padded, start, ops.node('Add', [start, size]), ops.ints([0])]);
      const body = bodyNodes(nodes, region, chunk, `/rows`);
      ops.place(body);
      return { carried: [], scans: [body[body.length - 1].output?.[0] ?? ''] };
    });
    const joined = ops.node('Reshape', [scan, ops.ints([-1, region.outWidth])]);
    const y2 = ops.node('Slice', [joined, ops.ints([0]), n, ops.ints([0])]);
    const leading = ops.node('Slice', [ops.node('Shape', [region.x]), ops.ints([0]), ops.ints([-1]), ops.ints([0])]);
    const shape = ops.node('Concat', [leading, ops.ints([region.outWidth])], { axis: 0 });
    ops.place([
      { name: region.y, opType: 'Reshape', domain: '', input: [y2, shape], output: [region.y], attribute: [] },
    ]);
  });
}

/**
 * Rewrites `model` in place: each recognised MLP region runs in a Loop over chunks of `rows` rows. Returns how
 * many regions were chunked (0: the graph is unchanged).
 */
export function chunkExportMlps(model: ModelProto, rows = EXPORT_MLP_ROWS): number {
  const graph = model.graph;
  const opset = Number((model.opsetImport ?? []).find((o) => !o.domain)?.version ?? 0);
  // Pad and Slice with their sizes as inputs (opset 11 and 13's Reshape to a scalar) are what the Loop needs.
  if (!graph?.node || opset < 13) return 0;
  const regions = findRegions(model);
  if (regions.length === 0) return 0;
  const nodes = graph.node;
  const ops = graphOps(model, 'pa_mlp');
  const replaced = new Map<number, NodeProto[]>();
  for (const region of regions)
    replaced.set(region.nodes[region.nodes.length - 1], chunkedRegion(ops, nodes, region, rows));
  const dropped = new Set(regions.flatMap((r) => r.nodes));
  const moved = new Set(
    regions.flatMap((r) => r.nodes.flatMap((at) => nodes[at].output ?? []).filter((o) => o !== r.y)),
  );
  // The Loop goes where the region's last node was: every input it reads is made before that.
  graph.node = nodes.flatMap((node, at) => replaced.get(at) ?? (dropped.has(at) ? [] : [node]));
  graph.valueInfo = (graph.valueInfo ?? []).filter((v) => !moved.has(v.name ?? ''));
  return regions.length;
}
