// One step of attention rollout as a standalone ONNX graph: R_l = Â_l·R_{l−1} with Â_l = ½M_l + ½I, written
// ½(M_l·R_{l−1} + R_{l−1}), for [n, n] float32 inputs of any n. The answer strip's rollout (runtime/
// rolloutProduct.ts) runs it once per layer over a whole pass, where the product is n³ and onnxruntime's
// matrix multiply is several times faster than a loop in JavaScript.
import { onnx } from 'onnx-proto';

const FLOAT = onnx.TensorProto.DataType.FLOAT;

function tensor(name: string, dims: readonly (string | number)[]): onnx.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim } } } };
}

const square = (name: string): onnx.IValueInfoProto => tensor(name, ['n', 'n']);

/** The encoded graph: inputs `mean` (M_l) and `below` (R_{l−1}), output `rollout` (R_l). */
export function rolloutStepModel(): Uint8Array {
  const half = new Float32Array([0.5]);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'prompt-attention',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'rollout_step',
      node: [
        { name: 'product', opType: 'MatMul', input: ['mean', 'below'], output: ['product'] },
        { name: 'sum', opType: 'Add', input: ['product', 'below'], output: ['sum'] },
        { name: 'halve', opType: 'Mul', input: ['sum', 'half'], output: ['rollout'] },
      ],
      initializer: [{ name: 'half', dims: [], dataType: FLOAT, rawData: new Uint8Array(half.buffer) }],
      input: [square('mean'), square('below')],
      output: [square('rollout')],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
