// The node builder the decoder graphs (GGUF, safetensors) are written with: nodes in any domain with int,
// float and int-list attributes, and initializers whose bytes go straight to an external-data file as they
// are made (so a built graph never holds its weights twice in memory, and stays far under protobuf's 2 GB).
// Small constants stay inline. The attention statistics are appended afterwards with graphOps.ts.
import * as fs from 'node:fs';
import { onnx } from 'onnx-proto';
import type { ModelProto } from './onnxGraph';

export const ElemType = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
/** Initializers at least this large go to the external-data file. */
const EXTERNAL_MIN_BYTES = 1024;

export type Attr = number | { readonly float: number } | readonly number[];

/** Appends initializer bytes to the external-data file; returns where they went. */
export class WeightSink {
  private offset = 0;
  constructor(
    private readonly fd: number,
    readonly location: string,
  ) {}

  add(bytes: Uint8Array): { offset: number; length: number } {
    const at = this.offset;
    fs.writeSync(this.fd, bytes, 0, bytes.length, at);
    const padded = Math.ceil((at + bytes.length) / 64) * 64; // aligned for onnxruntime's memory mapping
    this.offset = padded;
    return { offset: at, length: bytes.length };
  }

  get size(): number {
    return this.offset;
  }
}

export class ModelBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  readonly inputs: onnx.IValueInfoProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;
  private readonly constants = new Map<string, string>();

  constructor(private readonly sink: WeightSink) {}

  private name(base: string): string {
    return `${base}_${this.counter++}`;
  }

  /** One node; returns its first output. */
  node(op: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, domain = ''): string {
    return this.multi(op, inputs, 1, attrs, domain)[0];
  }

  multi(op: string, inputs: readonly string[], count: number, attrs: Record<string, Attr> = {}, domain = ''): string[] {
    const outputs = Array.from({ length: count }, () => this.name(op));
    const attribute = Object.entries(attrs).map(([name, value]) =>
      typeof value === 'number'
        ? onnx.AttributeProto.create({ name, type: A.INT, i: value })
        : 'float' in value
          ? onnx.AttributeProto.create({ name, type: A.FLOAT, f: (value as { float: number }).float })
          : onnx.AttributeProto.create({ name, type: A.INTS, ints: [...(value as readonly number[])] }),
    );
    this.nodes.push(
      onnx.NodeProto.create({ name: outputs[0], opType: op, domain, input: [...inputs], output: outputs, attribute }),
    );
    return outputs;
  }

  /** Where an external initializer's bytes lie in the external-data file (null: inline or unknown). */
  placement(name: string): { offset: number; length: number } | null {
    const t = this.initializers.find((i) => i.name === name);
    const entry = (key: string): number => Number(t?.externalData?.find((e) => e.key === key)?.value ?? NaN);
    return t?.externalData?.length ? { offset: entry('offset'), length: entry('length') } : null;
  }

  /** A new initializer over a byte range of an external one's data (no copy: both point into the same file). */
  view(source: string, dataType: number, dims: readonly number[], byteOffset: number, byteLength: number): string {
    const at = this.placement(source);
    if (!at) throw new Error(`${source} is not external data`);
    const name = this.name(`${source}.rows`);
    this.pushExternal(name, dataType, dims, at.offset + byteOffset, byteLength);
    return name;
  }

  /** An initializer; large ones are written to the external-data file now. */
  tensor(base: string, dataType: number, dims: readonly number[], bytes: Uint8Array): string {
    const name = this.name(base);
    if (bytes.length >= EXTERNAL_MIN_BYTES) {
      const { offset, length } = this.sink.add(bytes);
      this.pushExternal(name, dataType, dims, offset, length);
    } else {
      this.initializers.push(onnx.TensorProto.create({ name, dataType, dims: [...dims], rawData: bytes.slice() }));
    }
    return name;
  }

  /** Records initializer `name` as `length` bytes at `offset` of the external-data file. */
  private pushExternal(name: string, dataType: number, dims: readonly number[], offset: number, length: number): void {
    this.initializers.push(
      onnx.TensorProto.create({
        name,
        dataType,
        dims: [...dims],
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: this.sink.location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(length) },
        ],
      }),
    );
  }

  floats(base: string, dims: readonly number[], values: Float32Array): string {
    return this.tensor(base, ElemType.FLOAT, dims, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  /** A small constant, built once per value. */
  ints(values: readonly number[]): string {
    return this.constant(`i${values.join(',')}`, () =>
      this.tensor(
        'ints',
        ElemType.INT64,
        [values.length],
        new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer),
      ),
    );
  }

  float(value: number): string {
    return this.constant(`f${value}`, () =>
      this.tensor('float', ElemType.FLOAT, [], new Uint8Array(Float32Array.of(value).buffer)),
    );
  }

  scalarInt(value: number): string {
    return this.constant(`s${value}`, () =>
      this.tensor('int', ElemType.INT64, [], new Uint8Array(BigInt64Array.of(BigInt(value)).buffer)),
    );
  }

  private constant(key: string, make: () => string): string {
    const known = this.constants.get(key);
    if (known) return known;
    const made = make();
    this.constants.set(key, made);
    return made;
  }

  /**
   * `body` applied to `x` [n, width] (float) `rows` rows at a time, in a Loop: row-wise work (the MLP) then holds
   * its [rows, ·] tensors instead of [n, ·] (at 8,192 tokens the 0.5B shape's four [n, 4,864] MLP tensors were
   * 640 MB). x is padded to a whole number of chunks (scan outputs have one shape) and the result sliced back.
   */
  rowChunks(x: string, width: number, rows: number, body: (chunk: string) => string): string {
    const n = this.node('Gather', [this.node('Shape', [x]), this.ints([0])], { axis: 0 }); // [1]
    // Chunks of min(n, rows) rows: an input up to `rows` runs whole, unpadded (padding it to `rows` made a
    // 64-token input cost what 2,048 do).
    const size = this.node('Max', [this.node('Min', [n, this.ints([rows])]), this.ints([1])]);
    const trips = this.node('Div', [this.node('Add', [n, this.node('Sub', [size, this.ints([1])])]), size]);
    const pads = this.node(
      'Concat',
      [this.ints([0, 0]), this.node('Sub', [this.node('Mul', [trips, size]), n]), this.ints([0])],
      { axis: 0 },
    );
    const padded = this.node('Pad', [x, pads]);
    const iteration = this.name('iteration');
    const condIn = this.name('cond');
    const first = this.nodes.length;
    const start = this.node('Mul', [this.node('Reshape', [iteration, this.ints([1])]), size]);
    const chunk = this.node('Slice', [padded, start, this.node('Add', [start, size]), this.ints([0])]);
    const y = this.node('Identity', [body(chunk)]);
    const condOut = this.node('Identity', [condIn]);
    const inner = this.nodes.splice(first);
    const scalar = (name: string, elemType: number): onnx.IValueInfoProto =>
      onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: { dim: [] } } } });
    const loopBody = onnx.GraphProto.create({
      name: this.name('rows'),
      node: inner,
      input: [scalar(iteration, ElemType.INT64), scalar(condIn, ElemType.BOOL)],
      output: [
        onnx.ValueInfoProto.create({ name: condOut, type: { tensorType: { elemType: ElemType.BOOL } } }),
        onnx.ValueInfoProto.create({ name: y, type: { tensorType: { elemType: ElemType.FLOAT } } }),
      ],
    });
    const [scan] = this.multi('Loop', [this.node('Squeeze', [trips, this.ints([0])]), ''], 1);
    this.nodes[this.nodes.length - 1].attribute = [
      onnx.AttributeProto.create({ name: 'body', type: A.GRAPH, g: loopBody }),
    ];
    const joined = this.node('Reshape', [scan, this.ints([-1, width])]);
    return this.node('Slice', [joined, this.ints([0]), n, this.ints([0])]);
  }

  input(name: string, elemType: number, dims: readonly (number | string)[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Renames `tensor` to `name` through an Identity and makes it a graph output. */
  output(tensor: string, name: string, elemType: number, dims: readonly (number | string)[]): void {
    this.nodes.push(onnx.NodeProto.create({ name, opType: 'Identity', input: [tensor], output: [name] }));
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  model(opset: number): ModelProto {
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'prompt-attention',
      opsetImport: [
        { domain: '', version: opset },
        { domain: 'com.microsoft', version: 1 },
      ],
      graph: {
        name: 'decoder',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    }) as ModelProto;
  }
}

function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): onnx.IValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}
