// A GGUF fixture (ggufFixtures.ts) rewritten as a Hugging Face checkpoint folder: config.json, the tiny
// tokenizer, and model.safetensors (or two shards with model.safetensors.index.json) holding the same
// weights in HF's conventions: Q/K rows of `llama` un-permuted (HF rotates halves, GGUF adjacent pairs),
// Gemma's norms as w − 1 (HF computes 1 + w), HF tensor names, phi3's fused qkv_proj (q, k, v rows in that
// order, halves as GGUF keeps them) and gate_up_proj (gate rows, then up: HF's chunk(2)). The model computes
// the same function as the GGUF file, so the same float64 reference checks it.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { GgufFixture } from './ggufFixtures';
import { buildTinyTokenizer } from './tinyTokenizer';

/** GGUF's adjacent-pair rows of one projection back to HF's halves: hf[h·d + half·d/2 + i] = gguf[h·d + 2i + half]. */
function unpermute(rows: Float32Array, heads: number, inDim: number): Float32Array {
  const d = rows.length / inDim / heads;
  const out = new Float32Array(rows.length);
  for (let h = 0; h < heads; h++)
    for (let half = 0; half < 2; half++)
      for (let i = 0; i < d / 2; i++)
        out.set(
          rows.subarray((h * d + 2 * i + half) * inDim, (h * d + 2 * i + half + 1) * inDim),
          (h * d + half * (d / 2) + i) * inDim,
        );
  return out;
}

export interface CheckpointOptions {
  readonly dtype: 'F32' | 'BF16';
  readonly sharded?: boolean;
  /** Keys written over config.json's (e.g. a partial_rotary_factor the loader must refuse). */
  readonly config?: Readonly<Record<string, unknown>>;
}

const concat = (...parts: Float32Array[]): Float32Array => {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

function bf16(values: Float32Array): Uint8Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = bits[i] >>> 16; // the fixture's BF16 values are exact
  return new Uint8Array(out.buffer);
}

function safetensors(tensors: [string, number[], string, Uint8Array][]): Uint8Array {
  let offset = 0;
  const header: Record<string, unknown> = {};
  for (const [name, shape, dtype, bytes] of tensors) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const [, , , bytes] of tensors) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

export async function writeCheckpoint(fixture: GgufFixture, folder: string, options: CheckpointOptions): Promise<void> {
  const { arch } = fixture.options;
  const s = fixture.shape;
  const D = s.hidden;
  const tensors: [string, number[], string, Uint8Array][] = [];
  const put = (name: string, shape: number[], values: Float32Array, matrix: boolean): void => {
    const half = matrix && options.dtype === 'BF16';
    tensors.push([name, shape, half ? 'BF16' : 'F32', half ? bf16(values) : new Uint8Array(values.slice().buffer)]);
  };
  const norm = (values: Float32Array): Float32Array =>
    arch === 'gemma3' ? Float32Array.from(values, (v) => Math.fround(v - 1)) : values;
  put('model.embed_tokens.weight', [s.vocab, D], fixture.embed, true);
  put('model.norm.weight', [D], norm(fixture.outputNorm), false);
  if (!fixture.options.tied) put('lm_head.weight', [s.vocab, D], fixture.output, true);
  fixture.layers.forEach((layer, l) => {
    const p = `model.layers.${l}.`;
    const q = arch === 'llama' ? unpermute(layer.wq, s.heads, D) : layer.wq;
    const k = arch === 'llama' ? unpermute(layer.wk, s.kvHeads, D) : layer.wk;
    const rows = (m: Float32Array, inDim: number): number[] => [m.length / inDim, inDim];
    put(`${p}input_layernorm.weight`, [D], norm(layer.attnNorm), false);
    if (arch === 'phi3') {
      const qkv = concat(q, k, layer.wv);
      put(`${p}self_attn.qkv_proj.weight`, rows(qkv, D), qkv, true);
    } else {
      put(`${p}self_attn.q_proj.weight`, rows(q, D), q, true);
      put(`${p}self_attn.k_proj.weight`, rows(k, D), k, true);
      put(`${p}self_attn.v_proj.weight`, rows(layer.wv, D), layer.wv, true);
    }
    if (layer.bq && layer.bk && layer.bv) {
      put(`${p}self_attn.q_proj.bias`, [layer.bq.length], layer.bq, false);
      put(`${p}self_attn.k_proj.bias`, [layer.bk.length], layer.bk, false);
      put(`${p}self_attn.v_proj.bias`, [layer.bv.length], layer.bv, false);
    }
    if (layer.qNorm && layer.kNorm) {
      put(`${p}self_attn.q_norm.weight`, [layer.qNorm.length], norm(layer.qNorm), false);
      put(`${p}self_attn.k_norm.weight`, [layer.kNorm.length], norm(layer.kNorm), false);
    }
    put(`${p}self_attn.o_proj.weight`, rows(layer.wo, s.heads * fixture.headDim), layer.wo, true);
    if (arch === 'gemma3') {
      put(`${p}post_attention_layernorm.weight`, [D], norm(layer.postAttnNorm as Float32Array), false);
      put(`${p}pre_feedforward_layernorm.weight`, [D], norm(layer.ffnNorm), false);
      put(`${p}post_feedforward_layernorm.weight`, [D], norm(layer.postFfnNorm as Float32Array), false);
    } else put(`${p}post_attention_layernorm.weight`, [D], layer.ffnNorm, false);
    if (arch === 'phi3') {
      const gateUp = concat(layer.gate, layer.up);
      put(`${p}mlp.gate_up_proj.weight`, rows(gateUp, D), gateUp, true);
    } else {
      put(`${p}mlp.gate_proj.weight`, rows(layer.gate, D), layer.gate, true);
      put(`${p}mlp.up_proj.weight`, rows(layer.up, D), layer.up, true);
    }
    put(`${p}mlp.down_proj.weight`, rows(layer.down, s.intermediate), layer.down, true);
  });
  await fs.mkdir(folder, { recursive: true });
  if (options.sharded) {
    const half = tensors.length >> 1;
    const shards = [tensors.slice(0, half), tensors.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [i, shard] of shards.entries()) {
      const name = `model-0000${i + 1}-of-00002.safetensors`;
      await fs.writeFile(path.join(folder, name), safetensors(shard));
      for (const [t] of shard) weightMap[t] = name;
    }
    await fs.writeFile(path.join(folder, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
  } else await fs.writeFile(path.join(folder, 'model.safetensors'), safetensors(tensors));
  const config: Record<string, unknown> = {
    model_type: arch === 'gemma3' ? 'gemma3_text' : arch,
    hidden_size: D,
    intermediate_size: s.intermediate,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    head_dim: fixture.headDim,
    max_position_embeddings: s.context,
    vocab_size: s.vocab,
    rms_norm_eps: fixture.epsilon,
    rope_theta: fixture.ropeBase,
    tie_word_embeddings: fixture.options.tied === true,
    torch_dtype: options.dtype === 'BF16' ? 'bfloat16' : 'float32',
    ...(arch === 'gemma3'
      ? {
          sliding_window: fixture.options.slidingWindow,
          sliding_window_pattern: fixture.options.slidingPattern ?? 2,
          rope_local_base_freq: fixture.ropeBaseSwa,
          query_pre_attn_scalar: fixture.headDim,
        }
      : {}),
  };
  const written = { ...(arch === 'phi3' ? phi3Config(fixture, options) : config), ...options.config };
  await fs.writeFile(path.join(folder, 'config.json'), JSON.stringify(written));
  const tokenizer = buildTinyTokenizer();
  await fs.writeFile(path.join(folder, 'tokenizer.json'), tokenizer.tokenizerJson);
  await fs.writeFile(path.join(folder, 'tokenizer_config.json'), tokenizer.tokenizerConfigJson);
}

/** config.json as transformers' Phi3Config writes it (Phi-3-mini's keys): no head_dim (hidden / heads), rotary
 * over whole heads, and the 4k model's sliding window, which the loader ignores as llama.cpp does for phi3 (and
 * which is longer than any fixture prompt, so HF would not apply it either). */
function phi3Config(fixture: GgufFixture, options: CheckpointOptions): Record<string, unknown> {
  const s = fixture.shape;
  return {
    architectures: ['Phi3ForCausalLM'],
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: 1,
    embd_pdrop: 0.0,
    eos_token_id: 2,
    hidden_act: 'silu',
    hidden_size: s.hidden,
    initializer_range: 0.02,
    intermediate_size: s.intermediate,
    max_position_embeddings: s.context,
    model_type: 'phi3',
    num_attention_heads: s.heads,
    num_hidden_layers: s.layers,
    num_key_value_heads: s.kvHeads,
    original_max_position_embeddings: s.context,
    pad_token_id: 2,
    partial_rotary_factor: 1.0,
    resid_pdrop: 0.0,
    rms_norm_eps: fixture.epsilon,
    rope_scaling: null,
    rope_theta: fixture.ropeBase,
    sliding_window: 2047,
    tie_word_embeddings: fixture.options.tied === true,
    torch_dtype: options.dtype === 'BF16' ? 'bfloat16' : 'float32',
    transformers_version: '4.53.0',
    use_cache: true,
    vocab_size: s.vocab,
  };
}
