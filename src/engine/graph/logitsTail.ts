// The logits of the tapped graph are for the last positions only (logitsSlice.ts slices the LM head's input),
// but the nodes between the last attention and that Slice (the last layer's MLP, its residual sum, the final
// norm) still ran on every row: at 8,192 tokens on the 0.5B shape, a whole MLP's [n, intermediate] tensors at
// the end of the run, when every layer's kept Q and K are alive. This pass moves the Slice up through the
// row-wise nodes that only the logits read, so they run on the kept rows; the whole-row nodes, then unread, go. Nodes read elsewhere (the residual stream that the last layer's attention also
// reads) stay whole, their rows sliced where the tail reads them. It runs after the other passes (sites,
// statistics, value norms), which read the export's own nodes.
import type { onnx } from 'onnx-proto';
import { graphOps } from './graphOps';
import type { ModelProto, NodeProto } from './onnxGraph';
import { consumersOf, producersOf } from './onnxGraph';
import { constantDims, projection, UNARY_ROW_OPS, BINARY_ROW_OPS } from './exportRowChunks';

const NORMS = new Set(['SimplifiedLayerNormalization', 'LayerNormalization', 'RMSNormalization']);

/** Whether `node` works row by row: every input but data rows is a constant that broadcasts along rows. */
function rowWise(node: NodeProto, constants: Map<string, number[]>): boolean {
  if ((node.attribute ?? []).some((a) => a.g || (a.graphs ?? []).length > 0)) return false;
  if ((node.output ?? []).filter(Boolean).length !== 1) return false;
  const inputs = (node.input ?? []).filter((i) => i !== '');
  const op = node.opType ?? '';
  const domain = node.domain ?? '';
  if (projection(node, constants)) return true;
  if (NORMS.has(op)) {
    const axis = (node.attribute ?? []).find((a) => a.name === 'axis');
    return (axis === undefined || Number(axis.i) === -1) && inputs.slice(1).every((i) => constants.has(i));
  }
  if (domain !== '' && domain !== 'com.microsoft') return false;
  if (!UNARY_ROW_OPS.has(op) && !BINARY_ROW_OPS.has(op)) return false;
  return inputs.every((i) => !constants.has(i) || (constants.get(i)?.slice(0, -1) ?? [0]).every((d) => d === 1));
}

/**
 * Moves the logits Slice (input 1 `keepInput`) of `model` up through the row-wise nodes only it reads. Returns
 * how many nodes now run on the kept rows (0: the graph is unchanged).
 */
export function sliceRowWiseTail(model: ModelProto, keepInput: string): number {
  const graph = model.graph;
  const nodes = graph?.node ?? [];
  const slice = nodes.find((n) => n.opType === 'Slice' && n.input?.[1] === keepInput);
  if (!graph || !slice?.input?.[0] || !slice.output?.[0]) return 0;
  const constants = constantDims(graph as onnx.IGraphProto);
  const consumers = consumersOf(nodes);
  const producers = producersOf(nodes);
  const outputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const sliceAt = nodes.indexOf(slice);
  // The tail: nodes every reader of which is in the tail or is the Slice, grown up from the Slice's input.
  const tail = new Set<number>();
  const candidates = new Set<number>();
  const visit = (tensor: string): void => {
    const at = producers.get(tensor);
    if (at !== undefined && !tail.has(at) && rowWise(nodes[at], constants)) candidates.add(at);
  };
  visit(slice.input[0]);
  for (let changed = true; changed;) {
    changed = false;
    for (const at of candidates) {
      const readers = (nodes[at].output ?? []).flatMap((o) => (outputs.has(o) ? [-1] : (consumers.get(o) ?? [])));
      if (!readers.every((r) => r === sliceAt || tail.has(r))) continue;
      candidates.delete(at);
      tail.add(at);
      changed = true;
      for (const i of nodes[at].input ?? []) if (i && !constants.has(i)) visit(i);
    }
  }
  if (tail.size === 0) return 0;
  const ops = graphOps(model, 'pa_tail');
  const renamed = new Map<string, string>();
  const order = [...tail].sort((a, b) => a - b);
  for (const at of order) for (const o of nodes[at].output ?? []) renamed.set(o, `${o}/tail`);
  const [, ends, axes] = (slice.input ?? []).slice(1);
  const built = ops.collect(() => {
    const sliced = new Map<string, string>();
    const rows = (tensor: string): string => {
      const known = renamed.get(tensor) ?? sliced.get(tensor);
      if (known) return known;
      const made = ops.node('Slice', [tensor, keepInput, ends, axes]);
      sliced.set(tensor, made);
      return made;
    };
    for (const at of order) {
      const node = nodes[at];
      const input = (node.input ?? []).map((i) => (i === '' || constants.has(i) ? i : rows(i)));
      const output = (node.output ?? []).map((o) => renamed.get(o) ?? o);
      ops.place([{ ...node, name: `${node.name ?? output[0]}/tail`, input, output }]);
    }
  });
  const last = renamed.get(slice.input[0]) as string;
  const sliced = slice.output[0];
  for (const node of nodes)
    if ((node.input ?? []).includes(sliced)) node.input = (node.input ?? []).map((i) => (i === sliced ? last : i));
  // The whole-row tail and the Slice are read by nothing now; the rows' nodes go where the Slice was.
  graph.node = nodes.flatMap((node, at) => (at === sliceAt ? built : tail.has(at) ? [] : [node]));
  return tail.size;
}
