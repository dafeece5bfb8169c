// The feeds of one prefill pass (no cache), built from the graph's own inputs: ids, an all-ones mask,
// positions only when the graph takes them, use_cache_branch=false for merged decoders, num_logits_to_keep,
// and a zero-length past tensor for every cache input, with its dtype and fixed dims (kv_heads, head_dim)
// from the session's input metadata (the graph's declared inputs, then config.json, where it gives none).
import type * as ort from 'onnxruntime-node';
import { EngineError } from '../engineError';
import type { Dim } from '../graph/onnxGraph';
import { ElemType } from '../graph/onnxGraph';

export interface FeedInput {
  readonly name: string;
  readonly elemType: number;
  readonly shape: readonly Dim[] | null;
}

export interface FeedOptions {
  /** From config.json, for cache inputs whose dims neither the session nor the graph fixes. */
  readonly kvHeads: number;
  readonly headDim: number;
  /** The session's input metadata (onnxruntime-node 1.30 gives types and shapes). */
  readonly metadata?: readonly ort.InferenceSession.ValueMetadata[];
}

/** Cache inputs across exporters: past_key_values.N.key/value (optimum, builder), past.N / past_key_N (older). */
export const PAST_INPUT = /^(?:past_key_values|past)[._]|^past_(?:key|value)/;

const TYPE_BY_ELEM: Readonly<Record<number, ort.Tensor.Type>> = {
  [ElemType.FLOAT]: 'float32',
  [ElemType.FLOAT16]: 'float16',
  [ElemType.INT64]: 'int64',
  [ElemType.INT32]: 'int32',
  [ElemType.BOOL]: 'bool',
  [ElemType.UINT8]: 'uint8',
};

interface InputInfo {
  readonly type: ort.Tensor.Type | null;
  readonly shape: readonly Dim[] | null;
}

function describe(input: FeedInput, metadata: FeedOptions['metadata']): InputInfo {
  const meta = metadata?.find((m) => m.name === input.name);
  if (meta && meta.isTensor)
    return {
      type: meta.type,
      shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' && d ? d : null)),
    };
  return { type: TYPE_BY_ELEM[input.elemType] ?? null, shape: input.shape };
}

function emptyData(type: ort.Tensor.Type): ort.Tensor.DataType {
  switch (type) {
    case 'float16':
      return new Uint16Array(0);
    case 'int64':
      return new BigInt64Array(0);
    case 'int32':
      return new Int32Array(0);
    case 'uint8':
    case 'bool':
      return new Uint8Array(0);
    default:
      return new Float32Array(0);
  }
}

/**
 * Dims of an empty cache tensor: batch 1, the past length 0, fixed dims as declared; a 4-D cache with
 * symbolic heads or head size takes them from config.json.
 */
export function emptyPastDims(shape: readonly Dim[] | null, kvHeads: number, headDim: number): number[] {
  if (!shape || shape.length === 0) return [1, kvHeads, 0, headDim];
  const dims = shape.map((d, i) => {
    if (typeof d === 'number') return d;
    if (i === 0) return 1;
    if (typeof d === 'string' && /past|seq|len|total|cache/i.test(d)) return 0;
    if (shape.length === 4) return i === 1 ? kvHeads : i === 2 ? 0 : headDim;
    return 1;
  });
  if (!dims.includes(0)) dims[Math.max(0, dims.length - 2)] = 0;
  return dims;
}

/** One prefill's feeds for `inputs` (the graph's non-initializer inputs). */
export function prefillFeeds(
  runtime: Pick<typeof ort, 'Tensor'>,
  inputs: readonly FeedInput[],
  ids: readonly number[],
  options: FeedOptions,
): Record<string, ort.Tensor> {
  const { Tensor } = runtime;
  const n = ids.length;
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    const info = describe(input, options.metadata);
    const ints = (values: ArrayLike<number>, dims: number[] = [1, n]): ort.Tensor =>
      info.type === 'int32'
        ? new Tensor('int32', Int32Array.from(values), dims)
        : new Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims);
    const name = input.name;
    if (name === 'input_ids') feeds[name] = ints(ids);
    else if (name === 'attention_mask') feeds[name] = ints(new Array<number>(n).fill(1));
    else if (name === 'position_ids') feeds[name] = ints(Array.from({ length: n }, (_, i) => i));
    else if (name === 'token_type_ids') feeds[name] = ints(new Array<number>(n).fill(0));
    else if (name === 'use_cache_branch')
      feeds[name] = new Tensor('bool', Uint8Array.of(0), info.shape?.length === 0 ? [] : [1]);
    // 0 keeps the logits of every position (transformers.js feeds the same on a prefill).
    else if (name === 'num_logits_to_keep' || name === 'logits_to_keep')
      feeds[name] = ints([0], info.shape?.length === 1 ? [1] : []);
    else if (PAST_INPUT.test(name)) {
      const type = info.type ?? 'float32';
      feeds[name] = new Tensor(type, emptyData(type), emptyPastDims(info.shape, options.kvHeads, options.headDim));
    } else throw new EngineError(`Model input "${name}" is not one the inspector knows how to feed.`);
  }
  return feeds;
}
