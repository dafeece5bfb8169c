// Builds the ONNX graph of a GGUF decoder (llama, qwen2, qwen3, gemma3, phi3) the way llama.cpp computes it
// (llama-graph.cpp, models/*.cpp): RMSNorm, projections kept quantized (quantizedLinear.ts), qwen2's q/k/v
// biases, qwen3/gemma3's per-head q/k RMSNorm, rotary on adjacent pairs (llama) or on the two halves (the
// others) with `rope_freqs` factors, grouped-query attention (head h reads KV head ⌊h/(H/KV)⌋), gemma3's
// sliding-window layers, post-norms, √hidden embedding scale and tanh-GELU, phi3's fused qkv and gate_up.
// No output.weight: the LM head is the embedding. The hidden state is [n, hidden] (batch 1, prefill only).
// Per layer it emits an AttentionSite (post-rotary Q [1,H,n,d], K [1,KV,n,d], V [1,KV,n,d]); the model's own
// attention is onnxruntime's fused com.microsoft.GroupQueryAttention on the same rotated tensors (no [H, n, n]
// held). With the statistics (siteStatistics.ts), which recompute the probabilities from the sites in blocks of
// query rows, the statistics also make the attention output P·V and the fused operator is dropped: one QKᵀ and
// softmax per layer. The plain graph (the bench's raw pass, no statistics) keeps the fused operator.
// Outputs: `logits` for the last `pa_logit_rows` positions, and the attention statistics (siteStatistics.ts).
import type { GgufHyper } from '../runtime/ggufFile';
import type { AttentionSite } from './attentionSite';
import type { ModelBuilder } from './modelBuilder';
import { ElemType } from './modelBuilder';
import type { MatrixSource, PreparedMatrix } from './quantizedLinear';
import { applyMatrix, gatherRows, prepareMatrix } from './quantizedLinear';
import { tensorBytes } from '../runtime/ggufQuants';

export const LOGIT_ROWS_INPUT = 'pa_logit_rows';
/** The MLP runs this many rows at a time (ModelBuilder.rowChunks): one chunk up to 2,048 tokens, so short
 * inputs pay nothing; an 8-bit MatMulNBits dequantizes its weights once per chunk. */
export const MLP_ROWS = 2048;
export const LOGITS_OUTPUT = 'logits';
/** The MLP's intermediate columns run about this many at a time (gate and up by rows, down by columns, each a
 * slice of the file's blocks, the parts of down's product summed): the [rows, intermediate] tensors are a
 * slice's (at 2,048 rows of the 0.5B shape, 9.5 MiB instead of 38), and every weight is still dequantized once
 * per chunk of rows. */
export const MLP_COLUMNS = 1280;

/** What the builder reads from the file: a tensor's ggml dims/type and its bytes (null: not in the file). */
export interface TensorReader {
  has(name: string): boolean;
  matrix(name: string): MatrixSource;
  floats(name: string): Float32Array;
}

export interface BuiltDecoder {
  readonly sites: readonly AttentionSite[];
  /** Per layer, the attention's output before the output projection: the layer's statistics go after it. */
  readonly anchors: readonly string[];
}

interface Context {
  readonly b: ModelBuilder;
  readonly h: GgufHyper;
  readonly r: TensorReader;
  readonly n: string; // [1] int64, the sequence length
  /** GroupQueryAttention's lengths: int32 [1] n − 1 and int32 scalar n. */
  readonly seqlensK: string;
  readonly totalLength: string;
  /** About how many intermediate columns the MLP runs at a time (MLP_COLUMNS). */
  readonly mlpColumns: number;
}

function rmsNorm(c: Context, x: string, weight: string): string {
  return c.b.node('SimplifiedLayerNormalization', [x, weight], {
    axis: -1,
    epsilon: { float: c.h.epsilon },
    stash_type: 1,
  });
}

function norm(c: Context, x: string, name: string): string {
  const w = c.r.floats(name);
  return rmsNorm(c, x, c.b.floats(name, [w.length], w));
}

/** Rows [start, start + rows) of a matrix: a contiguous range of its blocks. */
function sliceRows(m: MatrixSource, start: number, rows: number): MatrixSource {
  const rowBytes = tensorBytes(m.type, m.dims[0]);
  return { ...m, dims: [m.dims[0], rows], bytes: m.bytes.subarray(start * rowBytes, (start + rows) * rowBytes) };
}

/** Columns [start, start + count) of every row (whole blocks), copied into a matrix of their own. */
function sliceColumns(m: MatrixSource, start: number, count: number): MatrixSource {
  const [K, N] = m.dims;
  const rowBytes = tensorBytes(m.type, K);
  const at = tensorBytes(m.type, start);
  const length = tensorBytes(m.type, count);
  const bytes = new Uint8Array(N * length);
  for (let r = 0; r < N; r++) bytes.set(m.bytes.subarray(r * rowBytes + at, r * rowBytes + at + length), r * length);
  return { ...m, dims: [count, N], bytes };
}

/** Splits `width` into about width / target parts, each a whole number of `unit`s: [start, count] pairs. */
function columnParts(width: number, unit: number, target: number): [number, number][] {
  const units = width / unit;
  const count = Math.max(1, Math.min(units, Math.round(width / target)));
  const parts: [number, number][] = [];
  for (let i = 0, start = 0; i < count; i++) {
    const size = (Math.floor(units / count) + (i < units % count ? 1 : 0)) * unit;
    parts.push([start, size]);
    start += size;
  }
  return parts;
}

function linear(c: Context, x: string, name: string, bias?: string): string {
  const y = applyMatrix(c.b, x, prepareMatrix(c.b, c.r.matrix(name)));
  if (!bias || !c.r.has(bias)) return y;
  const values = c.r.floats(bias);
  return c.b.node('Add', [y, c.b.floats(bias, [values.length], values)]);
}

/** cos and sin [n, d/2] for this base and scale, the frequencies divided by `rope_freqs` when the file has it. */
function rotaryTables(c: Context, base: number, scale: number): [string, string] {
  const half = c.h.headDim / 2;
  const factors = c.r.has('rope_freqs.weight') ? c.r.floats('rope_freqs.weight') : null;
  const inv = Float32Array.from(
    { length: half },
    (_, i) => (scale * base ** ((-2 * i) / c.h.headDim)) / (factors?.[i] ?? 1),
  );
  const b = c.b;
  const positions = b.node(
    'Cast',
    [b.node('Range', [b.scalarInt(0), b.node('Squeeze', [c.n, b.ints([0])]), b.scalarInt(1)])],
    {
      to: ElemType.FLOAT,
    },
  );
  const angles = b.node('Mul', [
    b.node('Unsqueeze', [positions, b.ints([1])]),
    b.floats('rope.inv_freq', [1, half], inv),
  ]);
  return [b.node('Cos', [angles]), b.node('Sin', [angles])];
}

/** Rotary on x [n, heads, d]: on the two halves (NEOX), or on adjacent pairs (2i, 2i+1). */
function rotate(c: Context, x: string, heads: number, tables: [string, string]): string {
  const b = c.b;
  const d = c.h.headDim;
  const half = d / 2;
  if (c.h.ropeHalves) {
    const [cos, sin] = tables.map((t) => b.node('Unsqueeze', [t, b.ints([1])])); // [n, 1, d/2]
    const x1 = b.node('Slice', [x, b.ints([0]), b.ints([half]), b.ints([-1])]);
    const x2 = b.node('Slice', [x, b.ints([half]), b.ints([d]), b.ints([-1])]);
    const r1 = b.node('Sub', [b.node('Mul', [x1, cos]), b.node('Mul', [x2, sin])]);
    const r2 = b.node('Add', [b.node('Mul', [x2, cos]), b.node('Mul', [x1, sin])]);
    return b.node('Concat', [r1, r2], { axis: -1 });
  }
  const [cos, sin] = tables.map((t) => b.node('Unsqueeze', [t, b.ints([1, 3])])); // [n, 1, d/2, 1]
  const pairs = b.node('Reshape', [x, b.ints([0, heads, half, 2])]);
  const x1 = b.node('Slice', [pairs, b.ints([0]), b.ints([1]), b.ints([-1])]);
  const x2 = b.node('Slice', [pairs, b.ints([1]), b.ints([2]), b.ints([-1])]);
  const r1 = b.node('Sub', [b.node('Mul', [x1, cos]), b.node('Mul', [x2, sin])]);
  const r2 = b.node('Add', [b.node('Mul', [x2, cos]), b.node('Mul', [x1, sin])]);
  return b.node('Reshape', [b.node('Concat', [r1, r2], { axis: -1 }), b.ints([0, heads, d])]);
}

function attention(
  c: Context,
  l: number,
  x: string,
  tables: Map<string, [string, string]>,
): { out: string; site: AttentionSite; anchor: string } {
  const { b, h } = c;
  const p = `blk.${l}.`;
  const d = h.headDim;
  let q: string;
  let k: string;
  let v: string;
  if (c.r.has(`${p}attn_qkv.weight`)) {
    const qkv = linear(c, x, `${p}attn_qkv.weight`);
    [q, k, v] = b.multi('Split', [qkv, b.ints([h.heads * d, h.kvHeads * d, h.kvHeads * d])], 3, { axis: -1 });
  } else {
    q = linear(c, x, `${p}attn_q.weight`, `${p}attn_q.bias`);
    k = linear(c, x, `${p}attn_k.weight`, `${p}attn_k.bias`);
    v = linear(c, x, `${p}attn_v.weight`, `${p}attn_v.bias`);
  }
  q = b.node('Reshape', [q, b.ints([-1, h.heads, d])]);
  k = b.node('Reshape', [k, b.ints([-1, h.kvHeads, d])]);
  if (c.r.has(`${p}attn_q_norm.weight`)) q = norm(c, q, `${p}attn_q_norm.weight`);
  if (c.r.has(`${p}attn_k_norm.weight`)) k = norm(c, k, `${p}attn_k_norm.weight`);
  const window = h.windows[l];
  const [base, scale] = window !== null ? [h.ropeBaseSwa, 1] : [h.ropeBase, h.ropeScale];
  const tableKey = `${base}/${scale}`;
  if (!tables.has(tableKey)) tables.set(tableKey, rotaryTables(c, base, scale));
  const rot = tables.get(tableKey) as [string, string];
  const qRot = rotate(c, q, h.heads, rot); // [n, H, d]
  const kRot = rotate(c, k, h.kvHeads, rot);
  const qSite = b.node('Transpose', [b.node('Unsqueeze', [qRot, b.ints([0])])], { perm: [0, 2, 1, 3] });
  const kSite = b.node('Transpose', [b.node('Unsqueeze', [kRot, b.ints([0])])], { perm: [0, 2, 1, 3] });
  // The model's own attention: onnxruntime's fused GroupQueryAttention on the rotated Q and K (no rotary of
  // its own), which works in tiles and never holds [heads, n, n]; the statistics recompute what they read
  // from the sites. Its local_window_size, like llama.cpp's window, counts the current key (checked against
  // the float64 pass on the gemma3 fixtures).
  const packed = (t: string, heads: number): string => b.node('Reshape', [t, b.ints([1, -1, heads * d])]);
  const [context] = b.multi(
    'GroupQueryAttention',
    [
      packed(qRot, h.heads),
      packed(kRot, h.kvHeads),
      b.node('Reshape', [v, b.ints([1, -1, h.kvHeads * d])]),
      '',
      '',
      c.seqlensK,
      c.totalLength,
    ],
    3,
    {
      num_heads: h.heads,
      kv_num_heads: h.kvHeads,
      scale: { float: h.attentionScale },
      local_window_size: window !== null ? window : -1,
      do_rotary: 0,
    },
    'com.microsoft',
  );
  const merged = b.node('Reshape', [context, b.ints([-1, h.heads * d])]);
  const site: AttentionSite = {
    layer: l,
    q: qSite,
    k: kSite,
    heads: h.heads,
    kvHeads: h.kvHeads,
    headDim: d,
    scale: h.attentionScale,
    slidingWindow: window,
    softcap: null,
    // With the statistics, these replace the fused operator (attentionStatsGraph.ts): one QKᵀ per layer.
    v: b.node('Transpose', [b.node('Reshape', [v, b.ints([1, -1, h.kvHeads, d])])], { perm: [0, 2, 1, 3] }),
    context,
  };
  return { out: linear(c, merged, `${p}attn_output.weight`), site, anchor: context };
}

function feedForward(c: Context, l: number, x: string): string {
  const { b, h } = c;
  const p = `blk.${l}.`;
  if (c.r.has(`${p}ffn_gate.weight`)) {
    // In column parts: gate and up by rows, down by columns (whole blocks), its partial products summed.
    const gateW = c.r.matrix(`${p}ffn_gate.weight`);
    const upW = c.r.matrix(`${p}ffn_up.weight`);
    const downW = c.r.matrix(`${p}ffn_down.weight`);
    let sum = '';
    for (const [start, count] of columnParts(h.feedForward, downW.type.elements, c.mlpColumns)) {
      const part = (m: MatrixSource): string => applyMatrix(b, x, prepareMatrix(b, sliceRows(m, start, count)));
      const inner = b.node('Mul', [activation(c, part(gateW)), part(upW)]);
      const y = applyMatrix(b, inner, prepareMatrix(b, sliceColumns(downW, start, count)));
      sum = sum ? b.node('Add', [sum, y]) : y;
    }
    return sum;
  }
  const [gate, up] = b.multi('Split', [linear(c, x, `${p}ffn_up.weight`), b.ints([h.feedForward, h.feedForward])], 2, {
    axis: -1,
  });
  return linear(c, b.node('Mul', [activation(c, gate), up]), `${p}ffn_down.weight`);
}

/** The MLP's gate activation: SiLU, or gemma3's tanh-approximated GELU. */
function activation(c: Context, gate: string): string {
  const { b, h } = c;
  let act: string;
  if (h.arch === 'gemma3') {
    // tanh-approximated GELU, as ggml_gelu: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    const cube = b.node('Mul', [b.node('Mul', [gate, gate]), gate]);
    const inner = b.node('Mul', [
      b.node('Add', [gate, b.node('Mul', [cube, b.float(0.044715)])]),
      b.float(Math.sqrt(2 / Math.PI)),
    ]);
    act = b.node('Mul', [b.node('Mul', [gate, b.float(0.5)]), b.node('Add', [b.node('Tanh', [inner]), b.float(1)])]);
  } else {
    act = b.node('Mul', [gate, b.node('Sigmoid', [gate])]);
  }
  return act;
}

/** Builds the whole decoder into `b`; returns the attention sites and where each layer's statistics go. */
export function buildGgufDecoder(
  b: ModelBuilder,
  h: GgufHyper,
  r: TensorReader,
  onLayer: (done: number) => void,
  mlpRows = MLP_ROWS,
  mlpColumns = MLP_COLUMNS,
): BuiltDecoder {
  const ids = b.input('input_ids', ElemType.INT64, [1, 'sequence']);
  const logitRows = b.input(LOGIT_ROWS_INPUT, ElemType.INT64, [1]);
  const flatIds = b.node('Reshape', [ids, b.ints([-1])]);
  const n = b.node('Shape', [flatIds]);
  const int32 = (t: string): string => b.node('Cast', [t], { to: ElemType.INT32 });
  const c: Context = {
    b,
    h,
    r,
    n,
    seqlensK: int32(b.node('Sub', [n, b.ints([1])])),
    totalLength: int32(b.node('Squeeze', [n, b.ints([0])])),
    mlpColumns,
  };
  const embed: PreparedMatrix = prepareMatrix(b, r.matrix('token_embd.weight'));
  let x = gatherRows(b, flatIds, embed);
  if (h.embedScale !== null) x = b.node('Mul', [x, b.float(h.embedScale)]);
  const tables = new Map<string, [string, string]>();
  const sites: AttentionSite[] = [];
  const anchors: string[] = [];
  for (let l = 0; l < h.layers; l++) {
    const p = `blk.${l}.`;
    const a = attention(c, l, norm(c, x, `${p}attn_norm.weight`), tables);
    sites.push(a.site);
    anchors.push(a.anchor);
    const attnOut = r.has(`${p}post_attention_norm.weight`) ? norm(c, a.out, `${p}post_attention_norm.weight`) : a.out;
    x = b.node('Add', [x, attnOut]);
    const ffn = b.rowChunks(x, h.hidden, mlpRows, (rows) => {
      const out = feedForward(c, l, norm(c, rows, `${p}ffn_norm.weight`));
      return r.has(`${p}post_ffw_norm.weight`) ? norm(c, out, `${p}post_ffw_norm.weight`) : out;
    });
    x = b.node('Add', [x, ffn]);
    onLayer(l + 1);
  }
  const last = b.node('Slice', [
    norm(c, x, 'output_norm.weight'),
    b.node('Max', [b.node('Sub', [n, logitRows]), b.ints([0])]),
    n,
    b.ints([0]),
  ]);
  const head = r.has('output.weight') ? prepareMatrix(b, r.matrix('output.weight')) : embed;
  let logits = applyMatrix(b, last, head);
  if (h.finalSoftcap !== null)
    logits = b.node('Mul', [
      b.node('Tanh', [b.node('Mul', [logits, b.float(1 / h.finalSoftcap)])]),
      b.float(h.finalSoftcap),
    ]);
  b.output(b.node('Unsqueeze', [logits, b.ints([0])]), LOGITS_OUTPUT, ElemType.FLOAT, [1, 'rows', h.vocab]);
  return { sites, anchors };
}
