// Tiny random decoders written as GGUF files, one per architecture the engine builds (llama, qwen2, qwen3,
// gemma3, phi3), in a chosen weight type, with llama.cpp's tensor names and metadata keys. The fixture keeps
// the dequantized weights the file holds (in GGUF orientation: each matrix [out][in], row = output), which
// the float64 reference pass (ggufReference.ts) runs on. The vocabulary is a small SentencePiece-style list
// (control tokens, 256 byte tokens, a few words) so that llama.cpp loads the file.
import { seededRandom } from '../../src/shared/seededRandom';
import type { GgmlTypeName } from './ggufEncoders';
import type { TensorBytes, TypedValue } from './ggufWriter';
import { bool, f32, f32s, i32s, str, strings, tensor, u32, writeGguf } from './ggufWriter';

export type GgufArch = 'llama' | 'qwen2' | 'qwen3' | 'gemma3' | 'phi3';

export interface FixtureShape {
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly intermediate: number;
  readonly vocab: number;
  readonly context: number;
}

export const TINY_SHAPE: FixtureShape = {
  hidden: 256,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  intermediate: 512,
  vocab: 320,
  context: 512,
};

export interface FixtureOptions {
  readonly arch: GgufArch;
  /** Type of the projection matrices (and the embedding / output unless given). */
  readonly type: GgmlTypeName;
  readonly embedType?: GgmlTypeName;
  readonly outputType?: GgmlTypeName;
  /** No output.weight: the LM head is the embedding. */
  readonly tied?: boolean;
  readonly addBos?: boolean;
  /** llama only: a rope_freqs.weight tensor (Llama 3 style frequency factors). */
  readonly ropeFreqs?: boolean;
  /** gemma3: the window of its sliding layers and the period (every period-th layer global). */
  readonly slidingWindow?: number;
  readonly slidingPattern?: number;
  readonly shape?: FixtureShape;
  readonly seed?: number;
  readonly ropeBase?: number;
}

/** Dequantized weights, matrices [out][in] row-major. */
export interface FixtureLayer {
  readonly attnNorm: Float32Array;
  readonly wq: Float32Array;
  readonly wk: Float32Array;
  readonly wv: Float32Array;
  readonly wo: Float32Array;
  readonly bq?: Float32Array;
  readonly bk?: Float32Array;
  readonly bv?: Float32Array;
  readonly qNorm?: Float32Array;
  readonly kNorm?: Float32Array;
  readonly postAttnNorm?: Float32Array;
  readonly ffnNorm: Float32Array;
  readonly gate: Float32Array;
  readonly up: Float32Array;
  readonly down: Float32Array;
  readonly postFfnNorm?: Float32Array;
}

export interface GgufFixture {
  readonly bytes: Uint8Array;
  /** What the bytes were written from, for tests that write a damaged variant (writeGguf). */
  readonly metadata: Readonly<Record<string, TypedValue>>;
  readonly tensors: readonly TensorBytes[];
  readonly options: FixtureOptions;
  readonly shape: FixtureShape;
  readonly headDim: number;
  readonly epsilon: number;
  readonly ropeBase: number;
  readonly ropeBaseSwa: number;
  readonly ropeFreqs: Float32Array | null;
  readonly embed: Float32Array;
  readonly output: Float32Array;
  readonly outputNorm: Float32Array;
  readonly layers: readonly FixtureLayer[];
  /** Per layer, the sliding window (null: full causal). */
  readonly windows: readonly (number | null)[];
}

export const BOS_ID = 1;
export const EOS_ID = 2;

/** <unk>, <s>, </s>, the 256 byte tokens, then words: a vocabulary llama.cpp's SPM loader accepts. */
export function tinyVocabulary(size: number): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(6);
  }
  const letters = 'etaoinshrdlucmfwypvbgkqjxz';
  for (let i = 0; tokens.length < size; i++) {
    const word = letters[i % 26] + (i >= 26 ? letters[Math.floor(i / 26) % 26] : '');
    tokens.push(`▁${word}`);
    types.push(1);
  }
  return { tokens, scores: tokens.map((_, i) => -i), types };
}

export function buildGgufFixture(options: FixtureOptions): GgufFixture {
  const s = options.shape ?? TINY_SHAPE;
  const { arch } = options;
  const random = seededRandom(options.seed ?? 7);
  const gauss = (): number => {
    const u = Math.max(1e-12, random());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const matrix = (rows: number, cols: number, std: number): Float32Array =>
    Float32Array.from({ length: rows * cols }, () => gauss() * std);
  const normWeights = (n: number): Float32Array => Float32Array.from({ length: n }, () => 0.7 + 0.6 * random());
  const hd = s.hidden / s.heads;
  const D = s.hidden;
  const I = s.intermediate;
  const qRows = s.heads * hd;
  const kvRows = s.kvHeads * hd;
  const tensors: TensorBytes[] = [];
  const add = (name: string, dims: number[], type: GgmlTypeName, data: Float32Array): Float32Array => {
    const t = tensor(name, dims, type, data);
    tensors.push(t);
    return t.values;
  };
  const vector = (name: string, data: Float32Array): Float32Array => add(name, [data.length], 'F32', data);
  const proj = (name: string, outRows: number, inCols: number, std: number): Float32Array =>
    add(name, [inCols, outRows], options.type, matrix(outRows, inCols, std));

  // A tied head reads the embedding: smaller rows keep the next token from being the current one.
  const embedStd = options.tied ? 0.1 : 1;
  const embed = add('token_embd.weight', [D, s.vocab], options.embedType ?? options.type, matrix(s.vocab, D, embedStd));
  const outputNorm = vector('output_norm.weight', normWeights(D));
  const output = options.tied
    ? embed
    : add('output.weight', [D, s.vocab], options.outputType ?? options.type, matrix(s.vocab, D, 1 / Math.sqrt(D)));
  const ropeFreqs =
    options.ropeFreqs && arch === 'llama'
      ? vector(
          'rope_freqs.weight',
          Float32Array.from({ length: hd / 2 }, (_, i) => (i < hd / 4 ? 1 : 1 + i / 4)),
        )
      : null;
  const pattern = options.slidingPattern ?? 2;
  const windows = Array.from({ length: s.layers }, (_, l) =>
    arch === 'gemma3' && options.slidingWindow && l % pattern < pattern - 1 ? options.slidingWindow : null,
  );
  const layers: FixtureLayer[] = [];
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    const attnNorm = vector(`${p}attn_norm.weight`, normWeights(D));
    let wq: Float32Array;
    let wk: Float32Array;
    let wv: Float32Array;
    if (arch === 'phi3') {
      const qkv = proj(`${p}attn_qkv.weight`, qRows + 2 * kvRows, D, 2 / Math.sqrt(D));
      wq = qkv.slice(0, qRows * D);
      wk = qkv.slice(qRows * D, (qRows + kvRows) * D);
      wv = qkv.slice((qRows + kvRows) * D);
    } else {
      wq = proj(`${p}attn_q.weight`, qRows, D, 2 / Math.sqrt(D));
      wk = proj(`${p}attn_k.weight`, kvRows, D, 2 / Math.sqrt(D));
      wv = proj(`${p}attn_v.weight`, kvRows, D, 1 / Math.sqrt(D));
    }
    const biases =
      arch === 'qwen2'
        ? {
            bq: vector(`${p}attn_q.bias`, matrix(1, qRows, 0.5)),
            bk: vector(`${p}attn_k.bias`, matrix(1, kvRows, 0.5)),
            bv: vector(`${p}attn_v.bias`, matrix(1, kvRows, 0.1)),
          }
        : {};
    const norms =
      arch === 'qwen3' || arch === 'gemma3'
        ? {
            qNorm: vector(`${p}attn_q_norm.weight`, normWeights(hd)),
            kNorm: vector(`${p}attn_k_norm.weight`, normWeights(hd)),
          }
        : {};
    const wo = proj(`${p}attn_output.weight`, D, qRows, 1 / Math.sqrt(qRows));
    const postAttnNorm = arch === 'gemma3' ? vector(`${p}post_attention_norm.weight`, normWeights(D)) : undefined;
    const ffnNorm = vector(`${p}ffn_norm.weight`, normWeights(D));
    let gate: Float32Array;
    let up: Float32Array;
    if (arch === 'phi3') {
      const gateUp = proj(`${p}ffn_up.weight`, 2 * I, D, 1 / Math.sqrt(D));
      gate = gateUp.slice(0, I * D);
      up = gateUp.slice(I * D);
    } else {
      gate = proj(`${p}ffn_gate.weight`, I, D, 1 / Math.sqrt(D));
      up = proj(`${p}ffn_up.weight`, I, D, 1 / Math.sqrt(D));
    }
    const down = proj(`${p}ffn_down.weight`, D, I, 1 / Math.sqrt(I));
    const postFfnNorm = arch === 'gemma3' ? vector(`${p}post_ffw_norm.weight`, normWeights(D)) : undefined;
    layers.push({
      attnNorm,
      wq,
      wk,
      wv,
      wo,
      ...biases,
      ...norms,
      ...(postAttnNorm ? { postAttnNorm } : {}),
      ffnNorm,
      gate,
      up,
      down,
      ...(postFfnNorm ? { postFfnNorm } : {}),
    });
  }

  const epsilon = arch === 'gemma3' ? 1e-6 : 1e-5;
  const ropeBase = options.ropeBase ?? (arch === 'qwen2' || arch === 'qwen3' ? 1000000 : 10000);
  const ropeBaseSwa = 10000;
  const vocab = tinyVocabulary(s.vocab);
  const metadata: Record<string, TypedValue> = {
    'general.architecture': str(arch),
    'general.name': str(`tiny fixture ${options.type}`), // not the arch: llama.cpp special-cases names with "phi3"
    'general.alignment': u32(32),
    [`${arch}.context_length`]: u32(s.context),
    [`${arch}.embedding_length`]: u32(D),
    [`${arch}.block_count`]: u32(s.layers),
    [`${arch}.feed_forward_length`]: u32(I),
    [`${arch}.attention.head_count`]: u32(s.heads),
    [`${arch}.attention.head_count_kv`]: u32(s.kvHeads),
    [`${arch}.attention.layer_norm_rms_epsilon`]: f32(epsilon),
    [`${arch}.rope.freq_base`]: f32(ropeBase),
    [`${arch}.rope.dimension_count`]: u32(hd),
    'tokenizer.ggml.model': str('llama'),
    'tokenizer.ggml.tokens': strings(vocab.tokens),
    'tokenizer.ggml.scores': f32s(vocab.scores),
    'tokenizer.ggml.token_type': i32s(vocab.types),
    'tokenizer.ggml.bos_token_id': u32(BOS_ID),
    'tokenizer.ggml.eos_token_id': u32(EOS_ID),
    'tokenizer.ggml.unknown_token_id': u32(0),
  };
  if (options.addBos !== undefined) metadata['tokenizer.ggml.add_bos_token'] = bool(options.addBos);
  if (arch === 'gemma3' && options.slidingWindow) {
    metadata['gemma3.attention.sliding_window'] = u32(options.slidingWindow);
    metadata['gemma3.attention.sliding_window_pattern'] = u32(pattern);
    metadata['gemma3.rope.freq_base_swa'] = f32(ropeBaseSwa);
  }
  return {
    bytes: writeGguf(metadata, tensors),
    metadata,
    tensors,
    options,
    shape: s,
    headDim: hd,
    epsilon,
    ropeBase,
    ropeBaseSwa,
    ropeFreqs,
    embed,
    output,
    outputNorm,
    layers,
    windows,
  };
}
