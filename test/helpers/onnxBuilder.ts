// A tiny ONNX graph builder for tests (onnx-proto encode): nodes, initializers, inputs and outputs.
import { onnx } from 'onnx-proto';
import { seededRandom } from '../../src/shared/seededRandom';

type AttrValue = number | number[] | string | { float: number } | { floats: number[] } | onnx.ITensorProto;

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  if (typeof value === 'number') return { name, type: A.INT, i: value };
  if (typeof value === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: A.INTS, ints: value };
  if ('float' in value) return { name, type: A.FLOAT, f: value.float };
  if ('floats' in value) return { name, type: A.FLOATS, floats: value.floats };
  return { name, type: A.TENSOR, t: value };
}

export function floatTensor(name: string, dims: number[], data: Float32Array | number[]): onnx.ITensorProto {
  const array = data instanceof Float32Array ? data : Float32Array.from(data);
  return { name, dims, dataType: T.FLOAT, rawData: new Uint8Array(array.buffer, array.byteOffset, array.byteLength) };
}

export function int64Tensor(name: string, dims: number[], data: number[]): onnx.ITensorProto {
  const array = BigInt64Array.from(data.map((v) => BigInt(v)));
  return { name, dims, dataType: T.INT64, rawData: new Uint8Array(array.buffer) };
}

export interface NodeOptions {
  readonly name?: string;
  readonly domain?: string;
  readonly outputs?: number;
  readonly attrs?: Record<string, AttrValue>;
}

export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;
  private readonly extraDomains = new Set<string>();

  /** Adds a node; returns its output names (one unless options.outputs says otherwise). */
  nodeN(opType: string, inputs: string[], options: NodeOptions = {}): string[] {
    const id = this.counter++;
    const name = options.name ?? `/${opType}_${id}`;
    const outputs = Array.from({ length: options.outputs ?? 1 }, (_, i) => `${name}_out${i}`);
    const attribute_ = Object.entries(options.attrs ?? {}).map(([k, v]) => attribute(k, v));
    if (options.domain) this.extraDomains.add(options.domain);
    this.nodes.push({
      name,
      opType,
      input: inputs,
      output: outputs,
      attribute: attribute_,
      domain: options.domain ?? '',
    });
    return outputs;
  }

  node(opType: string, inputs: string[], options: NodeOptions = {}): string {
    return this.nodeN(opType, inputs, options)[0];
  }

  init(tensor: onnx.ITensorProto): string {
    this.initializers.push(tensor);
    return tensor.name as string;
  }

  floats(dims: number[], data: Float32Array | number[], prefix = 'w'): string {
    return this.init(floatTensor(`${prefix}_${this.counter++}`, dims, data));
  }

  ints(data: number[], dims: number[] = [data.length]): string {
    return this.init(int64Tensor(`i64_${this.counter++}`, dims, data));
  }

  scalar(value: number): string {
    return this.init(floatTensor(`f_${this.counter++}`, [], [value]));
  }

  intScalar(value: number): string {
    return this.init(int64Tensor(`i_${this.counter++}`, [], [value]));
  }

  input(name: string, elemType: number, shape: (number | string)[]): string {
    this.inputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  /** Exposes `tensor` as a graph output named `name` (through an Identity). */
  output(tensor: string, name: string, elemType: number = T.FLOAT, shape: (number | string)[] | null = null): void {
    this.nodes.push({ name: `/output/${name}`, opType: 'Identity', input: [tensor], output: [name], domain: '' });
    this.outputs.push(shape ? valueInfo(name, elemType, shape) : { name });
  }

  build(opset = 17): Uint8Array {
    const opsetImport = [
      { domain: '', version: opset },
      ...[...this.extraDomains].map((domain) => ({ domain, version: 1 })),
    ];
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'prompt-attention-tests',
      opsetImport,
      graph: {
        name: 'test',
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

/** A graph input or output: its element type and its shape, numbers fixed and strings symbolic. */
export function valueInfo(name: string, elemType: number, shape: (number | string)[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export const DataType = T;

export { seededRandom };

/** Approximately normal weights with standard deviation `std`. */
export function randomWeights(random: () => number, count: number, std: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (random() + random() + random() - 1.5) * 2 * std;
  return out;
}
