// onnxruntime feeds for tests that run a built graph directly: an int64 tensor from plain numbers (ids, row
// indices), as the engine's own feeds hold them.
import * as ort from 'onnxruntime-node';

/** An int64 tensor of `values` with shape `dims`. */
export function int64Tensor(values: readonly number[], dims: readonly number[]): ort.Tensor {
  return new ort.Tensor(
    'int64',
    BigInt64Array.from(values, (v) => BigInt(v)),
    dims,
  );
}
