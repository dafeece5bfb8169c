// Small helpers over the protobufjs-generated ONNX types (onnx-proto): decode, encode, read shapes.
import { onnx } from 'onnx-proto';

export type ModelProto = onnx.ModelProto;
export type NodeProto = onnx.INodeProto;
export type ValueInfoProto = onnx.IValueInfoProto;

/** protobufjs decodes int64 as Long when the `long` package is present, as number otherwise. */
export type IntLike = number | { toNumber(): number };

export function toNumber(value: IntLike | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** One dimension: a number when fixed, the symbolic name when dynamic, null when unknown. */
export type Dim = number | string | null;

export function valueShape(info: ValueInfoProto | undefined): Dim[] | null {
  const dims = info?.type?.tensorType?.shape?.dim;
  if (!dims) return null;
  return dims.map((d) => {
    if (d.dimParam) return d.dimParam;
    if (d.dimValue !== null && d.dimValue !== undefined) return toNumber(d.dimValue as IntLike);
    return null;
  });
}

export function valueElemType(info: ValueInfoProto | undefined): number {
  return info?.type?.tensorType?.elemType ?? 0;
}

export const ElemType = onnx.TensorProto.DataType;

/** Maps each tensor name to the nodes that consume it (by index in graph.node). */
export function consumersOf(nodes: readonly NodeProto[]): Map<string, number[]> {
  const map = new Map<string, number[]>();
  nodes.forEach((node, index) => {
    for (const input of node.input ?? []) {
      if (!input) continue;
      const list = map.get(input);
      if (list) list.push(index);
      else map.set(input, [index]);
    }
  });
  return map;
}

/** Maps each tensor name to the node (index) that produces it. */
export function producersOf(nodes: readonly NodeProto[]): Map<string, number> {
  const map = new Map<string, number>();
  nodes.forEach((node, index) => {
    for (const output of node.output ?? []) if (output) map.set(output, index);
  });
  return map;
}

/** elemType 0 with no shape gives a bare name: ORT infers the type itself. */
export function makeValueInfo(name: string, elemType: number, shape: Dim[] | null): ValueInfoProto {
  if (elemType === 0 && shape === null) return onnx.ValueInfoProto.create({ name });
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType,
        shape: shape
          ? onnx.TensorShapeProto.create({
              dim: shape.map((d) =>
                typeof d === 'number'
                  ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
                  : onnx.TensorShapeProto.Dimension.create(d === null ? {} : { dimParam: d }),
              ),
            })
          : undefined,
      }),
    }),
  });
}

/** Every name the nodes of `node`'s subgraphs read, at any depth. */
function subgraphInputs(node: NodeProto): string[] {
  const names: string[] = [];
  for (const attr of node.attribute ?? [])
    for (const sub of attr.g ? [attr.g] : (attr.graphs ?? []))
      for (const inner of sub.node ?? []) {
        for (const i of inner.input ?? []) if (i) names.push(i);
        names.push(...subgraphInputs(inner));
      }
  return names;
}

/**
 * Keeps only the nodes needed to compute `outputs` (and the initializers they read), and makes
 * `outputs` the graph's only outputs. The tapped graph then skips the LM head, the final norm and
 * the last MLP, which it never needed. Graph inputs are kept so the same feeds still work.
 */
export function pruneToOutputs(model: ModelProto, outputs: readonly ValueInfoProto[]): void {
  const graph = model.graph;
  if (!graph) return;
  const nodes = graph.node ?? [];
  const producers = producersOf(nodes);
  const needed = new Set<number>();
  const stack = outputs.map((o) => o.name ?? '');
  const seen = new Set<string>();
  while (stack.length) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const index = producers.get(name);
    if (index === undefined || needed.has(index)) continue;
    needed.add(index);
    const node = nodes[index];
    for (const input of node.input ?? []) if (input) stack.push(input);
    // Subgraphs (If/Loop, nested to any depth) read outer-scope names implicitly: keep everything they mention.
    stack.push(...subgraphInputs(node));
  }
  graph.node = nodes.filter((_, index) => needed.has(index));
  graph.initializer = (graph.initializer ?? []).filter((t) => seen.has(t.name ?? ''));
  graph.output = [...outputs];
}
