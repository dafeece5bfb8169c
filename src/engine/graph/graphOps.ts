// A small builder for the nodes the engine appends to a decoded ONNX graph (the in-graph statistics):
// named nodes, int64/float constants as initializers, opset-aware reductions, Cast, and If branches.
// Identical nodes (same op, inputs and attributes) and equal constants are built once: the statistics of
// every layer compute the same shape arithmetic from the same n, and onnxruntime's session set-up grows
// faster than linearly with the node count (8,700 nodes took 3 s to plan for the 0.5B shape).
// Shape arithmetic built inside an If branch (a node of SHAPE_OPS whose inputs are all constants, Shapes of
// outer values, or such results) is lifted into the main graph, once for every layer: each branch is
// optimized and planned on its own, so its node count is load time (1.5 s of the 0.5B q4 shape's load).
// It knows nothing of attention; attentionStatsGraph.ts, headScoreGraph.ts and triangularMatMul.ts hold
// the maths and speak to it through GraphOps.
import { onnx } from 'onnx-proto';
import type { ModelProto } from './onnxGraph';

/** The operations the statistics subgraphs are written in. */
export interface GraphOps {
  /** Appends a node with integer (or integer list) attributes; returns its (first) output name. */
  node(opType: string, inputs: string[], intAttrs?: IntAttrs): string;
  /** A 1-D int64 constant. */
  ints(values: readonly number[]): string;
  /** An empty 1-D constant of this element type (the untaken branch of an If). */
  empty(elemType: number): string;
  /** A float32 scalar constant. */
  float(value: number): string;
  /** An int64 scalar constant. */
  scalar(value: number): string;
  /** ReduceMax over one axis (axes as an attribute before opset 18, as an input from 18 on). */
  reduceMax(input: string, axis: number, keepdims: boolean): string;
  cast(input: string, to: number): string;
  /** A node with several outputs (TopK); returns them all. */
  multi(opType: string, inputs: string[], outputs: number, intAttrs?: IntAttrs): string[];
  /** If(condition): runs only the branch taken; each branch returns its results, which become the If's outputs. */
  ifElse(condition: string, thenBranch: () => string[], elseBranch: () => string[]): string[];
  /**
   * Loop(trips): `body(iteration, carried)` returns the next carried values (float32, any shape) and the
   * per-iteration scan values (each the same shape every iteration, stacked on a new axis 0). Returns the
   * final carried values, then the stacked scans.
   */
  loop(
    trips: string,
    carried: readonly string[],
    body: (iteration: string, carried: readonly string[]) => { carried: string[]; scans: string[] },
  ): string[];
  /** Appends prebuilt nodes (any domain and attributes) where nodes are being built now (graph, branch or loop). */
  place(nodes: readonly onnx.INodeProto[]): void;
  /** Builds nodes into a list of their own (not the graph); returns that list for `insertAfter`. */
  collect(build: () => void): onnx.INodeProto[];
  /** Inserts `nodes` into the graph right after the node that produces `tensor` (or at the end). */
  insertAfter(tensor: string, nodes: readonly onnx.INodeProto[]): void;
  /** Makes these tensors graph outputs. */
  expose(names: readonly string[]): void;
  /** Adds a graph input of this element type and shape (fixed dims); returns its name. */
  input(name: string, elemType: number, dims: readonly number[]): string;
  readonly opset: number;
}

/** Node attributes: an int, or a list of ints (Transpose's perm). */
export type IntAttrs = Record<string, number | readonly number[]>;

const INT = onnx.AttributeProto.AttributeType.INT;
const INTS = onnx.AttributeProto.AttributeType.INTS;
const SHAPE_OPS = new Set([
  'Shape',
  'Gather',
  'Concat',
  'Slice',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Max',
  'Min',
  'Equal',
  'Greater',
  'Range',
  'Cast',
  'Reshape',
  'Expand',
]);

export function graphOps(model: ModelProto, prefix: string): GraphOps {
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph');
  const opset = Number((model.opsetImport ?? []).find((o) => !o.domain)?.version ?? 13);
  const inits = graph.initializer ?? (graph.initializer = []);
  let target: onnx.INodeProto[] = graph.node ?? (graph.node = []); // the graph, or an If branch being built
  let counter = 0;
  const name = (base: string): string => `${prefix}/${base}_${counter++}`;
  // Built nodes by (op, inputs, attributes), one map per scope: a branch may reuse the graph's, not the reverse.
  const scopes: Map<string, string[]>[] = [new Map()];
  const constants = new Map<string, string>();
  // Constants and what is computed from them and from Shapes of outer values: small tensors, liftable.
  const shapeLike = new Set<string>();
  // Tensors made inside a branch (never lifted past it), and the main-graph list a lifted node goes to.
  const branchLocal = new Set<string>();
  let mainTarget = target;
  // Shape-like tensors of rank ≥ 2 (a Reshape or Expand to a shape of two or more dims, and what is computed
  // from them): lifting their Reshape is free, but an op combining them broadcasts, and a lifted [n, 1] > [1, n]
  // (a causal mask) was an [n, n] tensor held by the main graph through the whole run (64 MiB at 8,192 tokens,
  // 1 GiB at 32,768) for a branch that long inputs never take. Ops reading them stay in their branch.
  const matrixLike = new Set<string>();
  const lengths = new Map<string, number>();
  const widens = (opType: string, inputs: readonly string[]): boolean =>
    (opType === 'Reshape' || opType === 'Expand') && (lengths.get(inputs[1] ?? '') ?? 2) >= 2;
  const liftable = (opType: string, inputs: readonly string[]): boolean =>
    SHAPE_OPS.has(opType) &&
    !inputs.some((i) => matrixLike.has(i)) &&
    inputs.every((i) => shapeLike.has(i) || (opType === 'Shape' && !branchLocal.has(i)));
  const built = (key: string): string[] | undefined => {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const hit = scopes[i].get(key);
      if (hit) return hit;
    }
    return undefined;
  };
  const attributes = (intAttrs: IntAttrs): onnx.IAttributeProto[] =>
    Object.entries(intAttrs).map(([key, v]) =>
      typeof v === 'number'
        ? onnx.AttributeProto.create({ name: key, type: INT, i: v })
        : onnx.AttributeProto.create({ name: key, type: INTS, ints: [...v] }),
    );
  const initializer = (dataType: number, dims: number[], bytes: ArrayBufferView): string => {
    const key = `${dataType}:${dims.join('x')}:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`;
    const known = constants.get(key);
    if (known) return known;
    const tensorName = name('const');
    inits.push(
      onnx.TensorProto.create({
        name: tensorName,
        dataType,
        dims,
        rawData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      }),
    );
    constants.set(key, tensorName);
    shapeLike.add(tensorName);
    return tensorName;
  };
  const push = (
    opType: string,
    inputs: string[],
    outputs: string[],
    attribute: onnx.IAttributeProto[],
    into = target,
  ): void => {
    into.push(
      onnx.NodeProto.create({ name: outputs[0], opType, input: inputs, output: outputs, attribute, domain: '' }),
    );
    if (into === target && scopes.length > 1) for (const o of outputs) branchLocal.add(o);
  };
  const multi = (opType: string, inputs: string[], count: number, intAttrs: IntAttrs = {}): string[] => {
    // Identity stays distinct: a branch's outputs are Identity nodes and must keep their own names.
    const key = opType === 'Identity' ? null : `${opType}(${inputs.join(',')})${JSON.stringify(intAttrs)}#${count}`;
    const lift = key !== null && liftable(opType, inputs);
    const known = key === null ? undefined : lift ? scopes[0].get(key) : built(key);
    if (known) return known;
    const outputs = Array.from({ length: count }, () => name(opType));
    push(opType, inputs, outputs, attributes(intAttrs), lift && scopes.length > 1 ? mainTarget : target);
    if (key !== null) scopes[lift ? 0 : scopes.length - 1].set(key, outputs);
    if (lift) for (const o of outputs) shapeLike.add(o);
    if (lift && widens(opType, inputs)) for (const o of outputs) matrixLike.add(o);
    return outputs;
  };
  const node = (opType: string, inputs: string[], intAttrs: IntAttrs = {}): string =>
    multi(opType, inputs, 1, intAttrs)[0];
  const branch = (build: () => string[]): onnx.IGraphProto => {
    const saved = target;
    const local: onnx.INodeProto[] = [];
    if (scopes.length === 1) mainTarget = target;
    target = local;
    scopes.push(new Map());
    try {
      const outputs = build().map((o) => node('Identity', [o]));
      return onnx.GraphProto.create({
        name: name('branch'),
        node: local,
        output: outputs.map((o) => onnx.ValueInfoProto.create({ name: o })),
      });
    } finally {
      scopes.pop();
      target = saved;
    }
  };
  return {
    opset,
    node,
    multi,
    ints: (values) => {
      const made = initializer(
        onnx.TensorProto.DataType.INT64,
        [values.length],
        BigInt64Array.from(values.map((v) => BigInt(v))),
      );
      lengths.set(made, values.length);
      return made;
    },
    float: (value) => initializer(onnx.TensorProto.DataType.FLOAT, [], Float32Array.of(value)),
    empty: (elemType) => initializer(elemType, [0], new Uint8Array(0)),
    scalar: (value) => initializer(onnx.TensorProto.DataType.INT64, [], BigInt64Array.of(BigInt(value))),
    reduceMax(input, axis, keepdims) {
      const keep = onnx.AttributeProto.create({ name: 'keepdims', type: INT, i: keepdims ? 1 : 0 });
      if (opset >= 18) {
        const axes = initializer(onnx.TensorProto.DataType.INT64, [1], BigInt64Array.of(BigInt(axis)));
        const output = name('ReduceMax');
        push('ReduceMax', [input, axes], [output], [keep]);
        return output;
      }
      const output = name('ReduceMax');
      push(
        'ReduceMax',
        [input],
        [output],
        [
          onnx.AttributeProto.create({ name: 'axes', type: onnx.AttributeProto.AttributeType.INTS, ints: [axis] }),
          keep,
        ],
      );
      return output;
    },
    cast: (input, to) => node('Cast', [input], { to }),
    ifElse(condition, thenBranch, elseBranch) {
      const thenGraph = branch(thenBranch);
      const elseGraph = branch(elseBranch);
      const outputs = (thenGraph.output ?? []).map(() => name('If'));
      const GRAPH = onnx.AttributeProto.AttributeType.GRAPH;
      push('If', [condition], outputs, [
        onnx.AttributeProto.create({ name: 'then_branch', type: GRAPH, g: thenGraph }),
        onnx.AttributeProto.create({ name: 'else_branch', type: GRAPH, g: elseGraph }),
      ]);
      return outputs;
    },
    loop(trips, carried, body) {
      const saved = target;
      const local: onnx.INodeProto[] = [];
      if (scopes.length === 1) mainTarget = target;
      target = local;
      scopes.push(new Map());
      const iteration = name('iteration');
      const condIn = name('cond');
      const carriedIn = carried.map(() => name('carried'));
      for (const t of [iteration, condIn, ...carriedIn]) branchLocal.add(t);
      const typed = (tensorName: string, elemType: number, rank0: boolean): onnx.IValueInfoProto =>
        onnx.ValueInfoProto.create({
          name: tensorName,
          type: onnx.TypeProto.create({
            tensorType: { elemType, ...(rank0 ? { shape: onnx.TensorShapeProto.create({ dim: [] }) } : {}) },
          }),
        });
      let graphProto: onnx.IGraphProto;
      let scanCount = 0;
      try {
        const result = body(iteration, carriedIn);
        scanCount = result.scans.length;
        const condOut = node('Identity', [condIn]);
        const outs = [...result.carried, ...result.scans].map((o) => node('Identity', [o]));
        graphProto = onnx.GraphProto.create({
          name: name('loop'),
          node: local,
          input: [
            typed(iteration, onnx.TensorProto.DataType.INT64, true),
            typed(condIn, onnx.TensorProto.DataType.BOOL, true),
            ...carriedIn.map((c) => typed(c, onnx.TensorProto.DataType.FLOAT, false)),
          ],
          output: [condOut, ...outs].map((o) => onnx.ValueInfoProto.create({ name: o })),
        });
      } finally {
        scopes.pop();
        target = saved;
      }
      const outputs = Array.from({ length: carried.length + scanCount }, () => name('Loop'));
      push('Loop', [trips, '', ...carried], outputs, [
        onnx.AttributeProto.create({ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: graphProto }),
      ]);
      return outputs;
    },
    place(nodes) {
      target.push(...nodes);
      if (scopes.length > 1) for (const n of nodes) for (const o of n.output ?? []) branchLocal.add(o);
    },
    collect(build) {
      const saved = target;
      const local: onnx.INodeProto[] = [];
      target = local;
      try {
        build();
        return local;
      } finally {
        target = saved;
      }
    },
    insertAfter(tensor, nodes) {
      const all = graph.node ?? (graph.node = []);
      const at = all.findIndex((n) => (n.output ?? []).includes(tensor));
      all.splice(at < 0 ? all.length : at + 1, 0, ...nodes);
    },
    expose(names) {
      graph.output = [...(graph.output ?? []), ...names.map((n) => onnx.ValueInfoProto.create({ name: n }))];
    },
    input(inputName, elemType, dims) {
      const shape = onnx.TensorShapeProto.create({
        dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d })),
      });
      graph.input = [
        ...(graph.input ?? []),
        onnx.ValueInfoProto.create({
          name: inputName,
          type: onnx.TypeProto.create({ tensorType: { elemType, shape } }),
        }),
      ];
      return inputName;
    },
  };
}
