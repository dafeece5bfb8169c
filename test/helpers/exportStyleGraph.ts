// ONNX graphs of one reference decoder (referenceDecoder.ts) in the styles real exports use, for tests:
// - 'gqa': onnxruntime-genai builder (com.microsoft.GroupQueryAttention with packed QKV, do_rotary=1,
//   cos/sin caches, seqlens_k / total_sequence_length from the mask, SimplifiedLayerNormalization,
//   past_key_values inputs, no position_ids);
// - 'mha': ORT transformer optimizer (com.microsoft.MultiHeadAttention, unidirectional=1; needs kv == heads);
// - 'attention23': ai.onnx Attention (opset 23, is_causal=1, grouped KV heads);
// - 'torch': torch.onnx export (Softmax → MatMul with V); with `merged`, optimum's legacy
//   decoder_model_merged: one If on use_cache_branch with the decoder in each branch.
// Options: fp16 weights/activations/cache, q4 MatMulNBits projections (block 32, zero point 8).
import type * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import type { ModelProto } from '../../src/engine/graph/onnxGraph';
import { valueElemType, valueShape } from '../../src/engine/graph/onnxGraph';
import { prefillFeeds } from '../../src/engine/runtime/prefillFeeds';
import { valueInfo } from './onnxBuilder';
import type { DecoderWeights } from './referenceDecoder';
import {
  halfDecoder,
  headDim,
  mapProjections,
  quantizeQ4,
  Q4_BLOCK,
  RMS_EPSILON,
  ROPE_THETA,
  toHalfBits,
} from './referenceDecoder';

export type ExportStyle = 'gqa' | 'mha' | 'attention23' | 'torch';

export interface ExportOptions {
  readonly style: ExportStyle;
  readonly fp16?: boolean;
  readonly q4?: boolean;
  /** torch style only: the legacy merged decoder (If on use_cache_branch). */
  readonly merged?: boolean;
  /** mha style only: the causal mask as an attention_bias input for this fixed length (unidirectional=0). */
  readonly biasLength?: number;
}

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;
type Attr = number | number[] | { float: number } | onnx.IGraphProto;

class Body {
  readonly nodes: onnx.INodeProto[] = [];
  readonly outputs: onnx.IValueInfoProto[] = [];
  private count = 0;
  constructor(
    private readonly prefix: string,
    private readonly shared: Weights,
  ) {}

  op(
    opType: string,
    inputs: string[],
    attrs: Record<string, Attr> = {},
    options: { domain?: string; outputs?: number; name?: string } = {},
  ): string[] {
    const name = options.name ?? `${this.prefix}/${opType}_${this.count++}`;
    const output = Array.from({ length: options.outputs ?? 1 }, (_, i) => `${name}_out${i}`);
    const attribute = Object.entries(attrs).map(([k, v]): onnx.IAttributeProto => {
      if (typeof v === 'number') return { name: k, type: A.INT, i: v };
      if (Array.isArray(v)) return { name: k, type: A.INTS, ints: v };
      if ('float' in v) return { name: k, type: A.FLOAT, f: v.float };
      return { name: k, type: A.GRAPH, g: v };
    });
    if (options.domain) this.shared.domains.add(options.domain);
    this.nodes.push({ name, opType, input: inputs, output, attribute, domain: options.domain ?? '' });
    return output;
  }

  one(
    opType: string,
    inputs: string[],
    attrs: Record<string, Attr> = {},
    options: { domain?: string; name?: string } = {},
  ): string {
    return this.op(opType, inputs, attrs, options)[0];
  }

  output(tensor: string, name: string): void {
    this.nodes.push({
      name: `${this.prefix}/out/${name}`,
      opType: 'Identity',
      input: [tensor],
      output: [name],
      domain: '',
    });
    this.outputs.push({ name });
  }

  graph(name: string): onnx.IGraphProto {
    return { name, node: this.nodes, output: this.outputs };
  }
}

class Weights {
  readonly initializers: onnx.ITensorProto[] = [];
  readonly domains = new Set<string>();
  private count = 0;
  constructor(readonly fp16: boolean) {}

  private add(tensor: onnx.ITensorProto): string {
    this.initializers.push(tensor);
    return tensor.name as string;
  }

  /** A float tensor in the model's float type. */
  float(dims: number[], data: ArrayLike<number>, name = `w_${this.count++}`): string {
    if (this.fp16) {
      const half = Uint16Array.from(Array.from(data, toHalfBits));
      return this.add({ name, dims, dataType: T.FLOAT16, rawData: new Uint8Array(half.buffer) });
    }
    const f = Float32Array.from(data);
    return this.add({ name, dims, dataType: T.FLOAT, rawData: new Uint8Array(f.buffer) });
  }

  ints(data: number[], dims = [data.length]): string {
    const v = BigInt64Array.from(data.map(BigInt));
    return this.add({ name: `i_${this.count++}`, dims, dataType: T.INT64, rawData: new Uint8Array(v.buffer) });
  }

  bytes(dims: number[], data: Uint8Array): string {
    return this.add({ name: `q_${this.count++}`, dims, dataType: T.UINT8, rawData: data });
  }
}

interface Names {
  readonly ids: string;
  readonly mask: string;
  readonly positions: string | null;
  /** Per layer [key, value] past inputs, or null for a pass without cache. */
  readonly past: readonly (readonly [string, string])[] | null;
}

/** Writes the decoder into `b`; returns logits and per-layer present key/value names. */
function emitDecoder(
  b: Body,
  w: Weights,
  model: DecoderWeights,
  o: ExportOptions,
  names: Names,
): { logits: string; presents: [string, string][] } {
  const { hidden: D, heads: H, kvHeads: KV, intermediate: I, maxPositions: P } = model.shape;
  const hd = headDim(model.shape);
  const floatType = o.fp16 ? T.FLOAT16 : T.FLOAT;
  const linear = (x: string, m: Float32Array, K: number, N: number): string => {
    if (!o.q4) return b.one('MatMul', [x, w.float([K, N], m)]);
    const q = quantizeQ4(m, K, N);
    const blocks = K / Q4_BLOCK;
    return b.one(
      'MatMulNBits',
      [x, w.bytes([N, blocks, Q4_BLOCK / 2], q.packed), w.float([N * blocks], q.scales)],
      { K, N, bits: 4, block_size: Q4_BLOCK },
      { domain: 'com.microsoft' },
    );
  };
  const ones = o.style === 'gqa' ? '' : w.float([D, 1], new Array<number>(D).fill(1 / D));
  const norm = (x: string, weight: Float32Array, prefix: string): string => {
    if (o.style === 'gqa')
      return b.one(
        'SimplifiedLayerNormalization',
        [x, w.float([D], weight)],
        { axis: -1, epsilon: { float: RMS_EPSILON }, stash_type: 1 },
        { name: `${prefix}/SimplifiedLayerNormalization` },
      );
    const meanSquare = b.one('MatMul', [b.one('Mul', [x, x]), ones]);
    const inv = b.one('Reciprocal', [b.one('Sqrt', [b.one('Add', [meanSquare, w.float([], [RMS_EPSILON])])])]);
    return b.one('Mul', [b.one('Mul', [x, inv]), w.float([D], weight)]);
  };
  const half = hd / 2;
  const angles = (p: number, i: number): number => p / ROPE_THETA ** ((2 * i) / hd);
  const full = (fn: (a: number) => number): number[] =>
    Array.from({ length: P * hd }, (_, k) => fn(angles(Math.floor(k / hd), (k % hd) % half)));
  const cosTable = o.style === 'gqa' ? null : w.float([P, hd], full(Math.cos));
  const sinTable = o.style === 'gqa' ? null : w.float([P, hd], full(Math.sin));
  // Plain-op rotary on [b, s, heads, hd] (cos/sin gathered by position_ids, broadcast over heads).
  const rotate = (x: string): string => {
    const cos = b.one('Unsqueeze', [b.one('Gather', [cosTable as string, names.positions as string]), w.ints([2])]);
    const sin = b.one('Unsqueeze', [b.one('Gather', [sinTable as string, names.positions as string]), w.ints([2])]);
    const x1 = b.one('Slice', [x, w.ints([0]), w.ints([half]), w.ints([3])]);
    const x2 = b.one('Slice', [x, w.ints([half]), w.ints([hd]), w.ints([3])]);
    const rotated = b.one('Concat', [b.one('Neg', [x2]), x1], { axis: 3 });
    return b.one('Add', [b.one('Mul', [x, cos]), b.one('Mul', [rotated, sin])]);
  };
  const split = (x: string, count: number): string => b.one('Reshape', [x, w.ints([0, 0, count, hd])]);
  const flat = (x: string): string => b.one('Reshape', [x, w.ints([0, 0, -1])]);
  const bnsh = (x: string): string => b.one('Transpose', [x], { perm: [0, 2, 1, 3] });

  let gqaInputs: { seqlens: string; total: string; cos: string; sin: string } | null = null;
  if (o.style === 'gqa') {
    const sum = b.one('ReduceSum', [names.mask, w.ints([1])], { keepdims: 0 });
    const seqlens = b.one(
      'Cast',
      [b.one('Sub', [sum, w.ints([1], [])])],
      { to: T.INT32 },
      { name: '/model/attn_mask_reformat/seqlens_k' },
    );
    const total = b.one(
      'Cast',
      [b.one('Gather', [b.one('Shape', [names.mask]), w.ints([1], [])], { axis: 0 })],
      { to: T.INT32 },
      { name: '/model/attn_mask_reformat/total_seq_len' },
    );
    const halfTable = (fn: (a: number) => number): number[] =>
      Array.from({ length: P * half }, (_, k) => fn(angles(Math.floor(k / half), k % half)));
    gqaInputs = {
      seqlens,
      total,
      cos: w.float([P, half], halfTable(Math.cos), 'cos_cache'),
      sin: w.float([P, half], halfTable(Math.sin), 'sin_cache'),
    };
  }
  const minValue = o.fp16 ? -65504 : -3.4028234663852886e38;

  let x = b.one(
    'Gather',
    [w.float([model.shape.vocabSize, D], model.embed), names.ids],
    {},
    { name: '/model/embed_tokens/Gather' },
  );
  const presents: [string, string][] = [];
  model.layers.forEach((layer, l) => {
    const p = `/model/layers.${l}/attn`;
    const h = norm(x, layer.inNorm, `/model/layers.${l}/input_layernorm`);
    const past = names.past?.[l] ?? null;
    let attended: string;
    if (o.style === 'gqa' && gqaInputs) {
      const packed = new Float32Array(D * (H + 2 * KV) * hd);
      const cols = (H + 2 * KV) * hd;
      for (let r = 0; r < D; r++) {
        packed.set(layer.wq.subarray(r * H * hd, (r + 1) * H * hd), r * cols);
        packed.set(layer.wk.subarray(r * KV * hd, (r + 1) * KV * hd), r * cols + H * hd);
        packed.set(layer.wv.subarray(r * KV * hd, (r + 1) * KV * hd), r * cols + (H + KV) * hd);
      }
      const qkv = linear(h, packed, D, cols);
      const g = gqaInputs;
      const out = b.op(
        'GroupQueryAttention',
        [qkv, '', '', past?.[0] ?? '', past?.[1] ?? '', g.seqlens, g.total, g.cos, g.sin],
        { num_heads: H, kv_num_heads: KV, do_rotary: 1, rotary_interleaved: 0, local_window_size: -1 },
        { domain: 'com.microsoft', outputs: 3, name: `${p}/GroupQueryAttention` },
      );
      attended = out[0];
      presents.push([out[1], out[2]]);
    } else {
      const q = rotate(split(linear(h, layer.wq, D, H * hd), H));
      const k = rotate(split(linear(h, layer.wk, D, KV * hd), KV));
      const v = split(linear(h, layer.wv, D, KV * hd), KV);
      if (o.style === 'mha' || o.style === 'attention23') {
        const L = o.biasLength ?? 0;
        const bias = L
          ? w.float(
              [1, 1, L, L],
              Array.from({ length: L * L }, (_, i) => (i % L > Math.floor(i / L) ? -1e4 : 0)),
            )
          : '';
        const inputs =
          o.style === 'mha'
            ? [flat(q), flat(k), flat(v), '', '', bias, past?.[0] ?? '', past?.[1] ?? '']
            : [flat(q), flat(k), flat(v), '', past?.[0] ?? '', past?.[1] ?? ''];
        const attrs: Record<string, Attr> =
          o.style === 'mha'
            ? { num_heads: H, unidirectional: L ? 0 : 1 }
            : { q_num_heads: H, kv_num_heads: KV, is_causal: 1 };
        const op = o.style === 'mha' ? 'MultiHeadAttention' : 'Attention';
        const out = b.op(op, inputs, attrs, {
          domain: o.style === 'mha' ? 'com.microsoft' : '',
          outputs: past ? 3 : 1,
          name: `${p}/${op}`,
        });
        attended = out[0];
        presents.push([out[1] ?? bnsh(k), out[2] ?? bnsh(v)]);
      } else {
        let kh = bnsh(k);
        let vh = bnsh(v);
        if (past) {
          kh = b.one('Concat', [past[0], kh], { axis: 2 });
          vh = b.one('Concat', [past[1], vh], { axis: 2 });
        }
        presents.push([kh, vh]);
        const repeat = (t: string): string =>
          b.one('Reshape', [
            b.one('Expand', [b.one('Unsqueeze', [t, w.ints([2])]), w.ints([1, 1, H / KV, 1, 1])]),
            w.ints([0, H, -1, hd]),
          ]);
        const scores = b.one('Div', [
          b.one('MatMul', [bnsh(q), b.one('Transpose', [repeat(kh)], { perm: [0, 1, 3, 2] })]),
          w.float([], [Math.sqrt(hd)]),
        ]);
        // Key j is in the future of query i when j > i + past length.
        const shape = b.one('Shape', [scores]);
        const keys = b.one('Range', [
          w.ints([0], []),
          b.one('Gather', [shape, w.ints([3], [])], { axis: 0 }),
          w.ints([1], []),
        ]);
        const queries = b.one('Range', [
          w.ints([0], []),
          b.one('Gather', [shape, w.ints([2], [])], { axis: 0 }),
          w.ints([1], []),
        ]);
        const offset = b.one('Sub', [
          b.one('Gather', [shape, w.ints([3], [])], { axis: 0 }),
          b.one('Gather', [shape, w.ints([2], [])], { axis: 0 }),
        ]);
        const future = b.one('Greater', [
          b.one('Unsqueeze', [keys, w.ints([0])]),
          b.one('Unsqueeze', [b.one('Add', [queries, offset]), w.ints([1])]),
        ]);
        const masked = b.one('Where', [future, w.float([], [minValue]), scores]);
        const probs = b.one('Softmax', [masked], { axis: -1 }, { name: `${p}/Softmax` });
        const cast = b.one('Cast', [probs], { to: floatType }, { name: `${p}/Cast` });
        attended = b.one('Reshape', [bnsh(b.one('MatMul', [cast, repeat(vh)])), w.ints([0, 0, D])]);
      }
    }
    x = b.one('Add', [x, linear(attended, layer.wo, H * hd, D)]);
    const h2 = norm(x, layer.postNorm, `/model/layers.${l}/post_attention_layernorm`);
    const gate = linear(h2, layer.gate, D, I);
    const act = b.one('Mul', [b.one('Mul', [gate, b.one('Sigmoid', [gate])]), linear(h2, layer.up, D, I)]);
    x = b.one('Add', [x, linear(act, layer.down, I, D)]);
  });
  const logits = b.one('MatMul', [
    norm(x, model.finalNorm, '/model/norm'),
    w.float([D, model.shape.vocabSize], model.lmHead),
  ]);
  return { logits, presents };
}

/** The ONNX model bytes of `model` in the export style `o`. */
export function buildExportGraph(model: DecoderWeights, o: ExportOptions): Uint8Array {
  const { kvHeads: KV, heads: H } = model.shape;
  if (o.style === 'mha' && KV !== H) throw new Error('the MultiHeadAttention style needs kvHeads == heads');
  const hd = headDim(model.shape);
  const floatType = o.fp16 ? T.FLOAT16 : T.FLOAT;
  const w = new Weights(o.fp16 === true);
  const main = new Body('', w);
  const inputs = [
    valueInfo('input_ids', T.INT64, ['batch_size', 'sequence_length']),
    valueInfo('attention_mask', T.INT64, ['batch_size', 'total_sequence_length']),
  ];
  const positions = o.style === 'gqa' ? null : 'position_ids';
  if (positions) inputs.push(valueInfo(positions, T.INT64, ['batch_size', 'sequence_length']));
  const past = model.layers.map((_, l) => [`past_key_values.${l}.key`, `past_key_values.${l}.value`] as const);
  for (const pair of past)
    for (const name of pair) inputs.push(valueInfo(name, floatType, ['batch_size', KV, 'past_sequence_length', hd]));
  const outputs: onnx.IValueInfoProto[] = [];
  const names = { ids: 'input_ids', mask: 'attention_mask', positions };
  const presentNames = past.flatMap((_, l) => [`present.${l}.key`, `present.${l}.value`]);
  if (o.merged) {
    inputs.push(valueInfo('use_cache_branch', T.BOOL, [1]));
    const branch = (withCache: boolean): onnx.IGraphProto => {
      const body = new Body(withCache ? '/with_past' : '/no_past', w);
      const out = emitDecoder(body, w, model, o, { ...names, past: withCache ? past : null });
      body.output(out.logits, `${withCache ? 'then' : 'else'}_logits`);
      out.presents.forEach(([k, v], l) => {
        body.output(k, `${withCache ? 'then' : 'else'}_present.${l}.key`);
        body.output(v, `${withCache ? 'then' : 'else'}_present.${l}.value`);
      });
      return body.graph(withCache ? 'with_past' : 'no_past');
    };
    main.nodes.push({
      name: 'optimum::if',
      opType: 'If',
      input: ['use_cache_branch'],
      output: ['logits', ...presentNames],
      attribute: [
        { name: 'then_branch', type: A.GRAPH, g: branch(true) },
        { name: 'else_branch', type: A.GRAPH, g: branch(false) },
      ],
      domain: '',
    });
  } else {
    const out = emitDecoder(main, w, model, o, { ...names, past });
    main.output(out.logits, 'logits');
    out.presents.forEach(([k, v], l) => {
      main.output(k, `present.${l}.key`);
      main.output(v, `present.${l}.value`);
    });
  }
  outputs.push(valueInfo('logits', floatType, ['batch_size', 'sequence_length', model.shape.vocabSize]));
  for (const name of presentNames)
    outputs.push(valueInfo(name, floatType, ['batch_size', KV, 'total_sequence_length', hd]));
  const opset = o.style === 'attention23' ? 23 : 17;
  const proto = onnx.ModelProto.create({
    irVersion: opset >= 23 ? 11 : 8,
    producerName: 'prompt-attention-tests',
    opsetImport: [{ domain: '', version: opset }, ...[...w.domains].map((domain) => ({ domain, version: 1 }))],
    graph: { name: 'decoder', node: main.nodes, initializer: w.initializers, input: inputs, output: outputs },
  });
  return onnx.ModelProto.encode(proto).finish();
}

/**
 * Moves every initializer of at least `minBytes` into external files named by `fileFor(index)` (index over
 * the moved tensors), as exporters do for large models. Returns the new model and the data files.
 */
export function externalizeWeights(
  bytes: Uint8Array,
  fileFor: (index: number) => string,
  minBytes = 256,
): { model: Uint8Array; files: Map<string, Uint8Array> } {
  const model = onnx.ModelProto.decode(bytes);
  const chunks = new Map<string, Uint8Array[]>();
  const offsets = new Map<string, number>();
  let moved = 0;
  for (const tensor of model.graph?.initializer ?? []) {
    const raw = tensor.rawData;
    if (!raw || raw.length < minBytes) continue;
    const file = fileFor(moved++);
    const offset = offsets.get(file) ?? 0;
    tensor.externalData = [
      { key: 'location', value: file },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.rawData = new Uint8Array(0);
    chunks.set(file, [...(chunks.get(file) ?? []), raw]);
    offsets.set(file, offset + raw.length);
  }
  const files = new Map<string, Uint8Array>();
  for (const [file, parts] of chunks) {
    const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    files.set(file, out);
  }
  return { model: onnx.ModelProto.encode(model).finish(), files };
}

/** The small decoder the export-style graph tests build, and the ids they run. */
export const EXPORT_TEST_SHAPE = {
  vocabSize: 64,
  hidden: 64,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  intermediate: 96,
  maxPositions: 64,
};
export const EXPORT_TEST_IDS = [3, 17, 5, 42, 8, 17, 5, 42, 1, 60, 2];
export const EXPORT_TEST_HEAD_DIM = EXPORT_TEST_SHAPE.hidden / EXPORT_TEST_SHAPE.heads;

/** The weights a fixture really holds (after quantization or fp16 rounding), for the reference. */
export function effectiveWeights(w: DecoderWeights, o: ExportOptions): DecoderWeights {
  const q = o.q4 ? mapProjections(w, (m, K, N) => quantizeQ4(m, K, N).dequantized) : w;
  return o.fp16 ? halfDecoder(q) : q;
}

/** A prefill's feeds for an EXPORT_TEST_SHAPE graph: every graph input but `omit`, from the session's metadata. */
export function exportTestFeeds(
  runtime: Pick<typeof ort, 'Tensor'>,
  model: ModelProto,
  session: ort.InferenceSession,
  ids: readonly number[],
  omit: readonly string[] = [],
): Record<string, ort.Tensor> {
  const inputs = (model.graph?.input ?? [])
    .filter((i) => !omit.includes(i.name ?? ''))
    .map((i) => ({ name: i.name ?? '', elemType: valueElemType(i), shape: valueShape(i) }));
  return prefillFeeds(runtime, inputs, ids, {
    kvHeads: EXPORT_TEST_SHAPE.kvHeads,
    headDim: EXPORT_TEST_HEAD_DIM,
    metadata: session.inputMetadata,
  });
}
