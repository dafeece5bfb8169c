// What the two small onnxruntime graphs over a layer's kept Q and K share (the exact row, runtime/rowKernel.ts;
// the rollout rows' block product, runtime/rolloutBlockGraph.ts): node and constant makers, the scaled and
// soft-capped scores q·kᵀ in one batched FusedMatMul (transB, the scale as alpha), and the model around them.
import { onnx } from 'onnx-proto';
import type { RowKernelShape } from '../analysis/exactRows';
import { ElemType, encodeModel } from '../graph/onnxGraph';

const A = onnx.AttributeProto.AttributeType;

export class SmallGraph {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializer: onnx.ITensorProto[] = [];

  /** Appends a node with one output, named after it. */
  node(op: string, inputs: string[], output: string, attribute: onnx.IAttributeProto[] = [], domain = ''): void {
    this.nodes.push(
      onnx.NodeProto.create({ name: output, opType: op, domain, input: inputs, output: [output], attribute }),
    );
  }

  scalar(name: string, value: number): string {
    this.initializer.push(onnx.TensorProto.create({ name, dataType: ElemType.FLOAT, dims: [], floatData: [value] }));
    return name;
  }

  ints(name: string, values: number[]): string {
    this.initializer.push(
      onnx.TensorProto.create({ name, dataType: ElemType.INT64, dims: [values.length], int64Data: values }),
    );
    return name;
  }

  /** scale · q·kᵀ of inputs `q` and `k`, soft-capped (cap · tanh(x / cap)) where the layer is; returns its name. */
  scores(s: RowKernelShape): string {
    this.node(
      'FusedMatMul',
      ['q', 'k'],
      'scores',
      [
        onnx.AttributeProto.create({ name: 'transB', type: A.INT, i: 1 }),
        onnx.AttributeProto.create({ name: 'alpha', type: A.FLOAT, f: s.scale }),
      ],
      'com.microsoft',
    );
    if (s.softcap === null) return 'scores';
    this.node('Mul', ['scores', this.scalar('inverse_cap', 1 / s.softcap)], 'capped_in');
    this.node('Tanh', ['capped_in'], 'capped_tanh');
    this.node('Mul', ['capped_tanh', this.scalar('cap', s.softcap)], 'capped');
    return 'capped';
  }

  /** The encoded model (opset 18 and com.microsoft 1). */
  encode(name: string, producer: string, input: onnx.IValueInfoProto[], output: onnx.IValueInfoProto[]): Uint8Array {
    const graph = onnx.GraphProto.create({ name, node: this.nodes, initializer: this.initializer, input, output });
    return encodeModel(
      onnx.ModelProto.create({
        irVersion: 8,
        producerName: producer,
        opsetImport: [
          { domain: '', version: 18 },
          { domain: 'com.microsoft', version: 1 },
        ],
        graph,
      }),
    );
  }
}

/** An int attribute. */
export const intAttr = (name: string, i: number): onnx.IAttributeProto =>
  onnx.AttributeProto.create({ name, type: A.INT, i });
