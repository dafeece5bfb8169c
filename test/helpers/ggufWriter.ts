// Writes GGUF v3 files for the test fixtures: the header and metadata through @huggingface/gguf's
// serializeGgufMetadata, then the tensor infos (name, dims innermost first, ggml type, offset), padding to
// the alignment, and each tensor's data at an aligned offset. Weights are encoded by ggufEncoders.ts.
// `tinyDecoderGguf` builds a small random decoder of a given architecture and weight type, and returns the
// dequantized weights the file holds, for the float64 reference pass.
import { GGUFValueType, serializeGgufMetadata } from '@huggingface/gguf';
import type { GGUFTypedMetadata, MetadataValue } from '@huggingface/gguf';
import type { GgmlTypeName } from './ggufEncoders';
import { encodeTensor, GgmlType } from './ggufEncoders';

export const GGUF_ALIGNMENT = 32;

export interface TypedValue {
  readonly type: GGUFValueType;
  readonly value: MetadataValue;
  readonly subType?: GGUFValueType;
}

export const u32 = (value: number): TypedValue => ({ type: GGUFValueType.UINT32, value });
export const i32 = (value: number): TypedValue => ({ type: GGUFValueType.INT32, value });
export const f32 = (value: number): TypedValue => ({ type: GGUFValueType.FLOAT32, value });
export const bool = (value: boolean): TypedValue => ({ type: GGUFValueType.BOOL, value });
export const str = (value: string): TypedValue => ({ type: GGUFValueType.STRING, value });
export const strings = (value: string[]): TypedValue => ({
  type: GGUFValueType.ARRAY,
  subType: GGUFValueType.STRING,
  value,
});
export const f32s = (value: number[]): TypedValue => ({
  type: GGUFValueType.ARRAY,
  subType: GGUFValueType.FLOAT32,
  value,
});
export const i32s = (value: number[]): TypedValue => ({
  type: GGUFValueType.ARRAY,
  subType: GGUFValueType.INT32,
  value,
});

export interface TensorBytes {
  readonly name: string;
  /** ggml dims, innermost (the row length) first. */
  readonly dims: readonly number[];
  readonly type: number;
  readonly bytes: Uint8Array;
}

/** A float tensor encoded as `type`; `values` is what the file's bytes decode to. */
export function tensor(
  name: string,
  dims: readonly number[],
  type: GgmlTypeName,
  data: Float32Array,
): TensorBytes & { values: Float32Array } {
  const encoded = encodeTensor(type, data, dims[0]);
  return { name, dims, type: GgmlType[type], bytes: encoded.bytes, values: encoded.values };
}

const pad = (n: number, to = GGUF_ALIGNMENT): number => Math.ceil(n / to) * to;

/** The whole file: header + metadata, tensor infos, padding, aligned tensor data. */
export function writeGguf(metadata: Record<string, TypedValue>, tensors: readonly TensorBytes[]): Uint8Array {
  const typed = {
    version: { value: 3, type: GGUFValueType.UINT32 },
    tensor_count: { value: BigInt(tensors.length), type: GGUFValueType.UINT64 },
    kv_count: { value: BigInt(Object.keys(metadata).length), type: GGUFValueType.UINT64 },
    ...metadata,
  } as GGUFTypedMetadata;
  // alignment 1: the tensor infos follow the metadata directly; the padding comes after them.
  const head = serializeGgufMetadata(typed, { alignment: 1 });
  const offsets: number[] = [];
  let dataSize = 0;
  for (const t of tensors) {
    offsets.push(dataSize);
    dataSize = pad(dataSize + t.bytes.length);
  }
  const encoder = new TextEncoder();
  const infoSize = tensors.reduce((sum, t) => sum + 8 + encoder.encode(t.name).length + 4 + 8 * t.dims.length + 12, 0);
  const dataStart = pad(head.length + infoSize);
  const out = new Uint8Array(dataStart + dataSize);
  const view = new DataView(out.buffer);
  out.set(head, 0);
  let at = head.length;
  tensors.forEach((t, i) => {
    const name = encoder.encode(t.name);
    view.setBigUint64(at, BigInt(name.length), true);
    out.set(name, at + 8);
    at += 8 + name.length;
    view.setUint32(at, t.dims.length, true);
    at += 4;
    for (const d of t.dims) {
      view.setBigUint64(at, BigInt(d), true);
      at += 8;
    }
    view.setUint32(at, t.type, true);
    view.setBigUint64(at + 4, BigInt(offsets[i]), true);
    at += 12;
    out.set(t.bytes, dataStart + offsets[i]);
  });
  return out;
}
