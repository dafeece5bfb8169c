// A Hugging Face checkpoint folder (config.json + model.safetensors, or shards listed by
// model.safetensors.index.json) read as the GGUF decoder builder's input: each tensor's header entry
// (dtype, shape, byte range) under its GGUF name (llama.cpp's convert_hf_to_gguf.py mapping), the
// hyperparameters from config.json, and HF's conventions where they differ from GGUF's: rotary on the two
// halves for every architecture (HF keeps Q/K unpermuted), Gemma's norms as 1 + w, Llama 3's rope scaling
// as frequency factors. F32, F16 and BF16 weights; 16-bit ones become fp32 in the graph when that fits in a
// quarter of the machine's memory, else 8-bit blocks (Q8_0) quantized on load.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { firstLine } from '../../shared/errorText';
import { EngineError } from '../engineError';
import { CONFIG_LIMITS } from './configLimits';
import type { GgufArchitecture, GgufFile, GgufHyper, GgufTensorInfo } from './ggufFile';
import type { QuantType } from './ggufQuants';
import { QUANT_TYPES } from './ggufQuants';

const DTYPES: Readonly<Record<string, number>> = { F32: 0, F16: 1, BF16: 30 };
const ARCHS: Readonly<Record<string, GgufArchitecture>> = {
  llama: 'llama',
  mistral: 'llama',
  qwen2: 'qwen2',
  qwen3: 'qwen3',
  gemma3: 'gemma3',
  gemma3_text: 'gemma3',
  phi3: 'phi3',
};

const LAYER_NAMES: Readonly<Record<string, string>> = {
  'input_layernorm.weight': 'attn_norm.weight',
  'self_attn.q_proj.weight': 'attn_q.weight',
  'self_attn.k_proj.weight': 'attn_k.weight',
  'self_attn.v_proj.weight': 'attn_v.weight',
  'self_attn.q_proj.bias': 'attn_q.bias',
  'self_attn.k_proj.bias': 'attn_k.bias',
  'self_attn.v_proj.bias': 'attn_v.bias',
  'self_attn.qkv_proj.weight': 'attn_qkv.weight',
  'self_attn.o_proj.weight': 'attn_output.weight',
  'self_attn.q_norm.weight': 'attn_q_norm.weight',
  'self_attn.k_norm.weight': 'attn_k_norm.weight',
  'mlp.gate_proj.weight': 'ffn_gate.weight',
  'mlp.up_proj.weight': 'ffn_up.weight',
  'mlp.gate_up_proj.weight': 'ffn_up.weight',
  'mlp.down_proj.weight': 'ffn_down.weight',
};

/** The GGUF name of an HF tensor, or null for one the decoder does not read. */
function ggufName(hf: string, arch: GgufArchitecture): string | null {
  const name = hf.replace(/^(?:language_model\.|model\.language_model\.)/, '').replace(/^model\./, '');
  if (name === 'embed_tokens.weight') return 'token_embd.weight';
  if (name === 'norm.weight') return 'output_norm.weight';
  if (name === 'lm_head.weight' || hf === 'lm_head.weight' || hf === 'language_model.lm_head.weight')
    return 'output.weight';
  const m = /^layers\.(\d+)\.(.+)$/.exec(name);
  if (!m) return null;
  let local = LAYER_NAMES[m[2]];
  if (arch === 'gemma3') {
    if (m[2] === 'post_attention_layernorm.weight') local = 'post_attention_norm.weight';
    else if (m[2] === 'pre_feedforward_layernorm.weight') local = 'ffn_norm.weight';
    else if (m[2] === 'post_feedforward_layernorm.weight') local = 'post_ffw_norm.weight';
  } else if (m[2] === 'post_attention_layernorm.weight') local = 'ffn_norm.weight';
  return local ? `blk.${m[1]}.${local}` : null;
}

type Json = Record<string, unknown>;

async function readJson(file: string): Promise<Json> {
  try {
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
    return json as Json;
  } catch (error) {
    throw new EngineError(`Cannot read ${file}: ${firstLine(error)}`);
  }
}

/** One safetensors file's header: name → (dtype, shape, absolute byte range). */
async function readHeader(file: string): Promise<{ size: number; entries: [string, Json][] }> {
  const handle = await fs.open(file, 'r');
  try {
    const size = (await handle.stat()).size;
    const head = Buffer.alloc(8);
    await handle.read(head, 0, 8, 0);
    const length = Number(head.readBigUInt64LE(0));
    if (length < 2 || length > 100 * 2 ** 20 || 8 + length > size)
      throw new EngineError(`${file} is not a safetensors file (header length ${length}, file ${size} bytes).`);
    const text = Buffer.alloc(length);
    await handle.read(text, 0, length, 8);
    let json: Json;
    try {
      json = JSON.parse(text.toString('utf8')) as Json;
    } catch {
      throw new EngineError(`${file} has a safetensors header that is not valid JSON.`);
    }
    const entries = Object.entries(json)
      .filter(([k]) => k !== '__metadata__')
      .map(([k, v]) => [k, { ...(v as Json), base: 8 + length }] as [string, Json]);
    return { size, entries };
  } finally {
    await handle.close();
  }
}

/** Llama 3 rope scaling as per-frequency divisors (what convert_hf_to_gguf.py writes as rope_freqs). */
function llama3Factors(scaling: Json, headDim: number, base: number): Float32Array {
  const factor = Number(scaling.factor ?? 8);
  const low = Number(scaling.low_freq_factor ?? 1);
  const high = Number(scaling.high_freq_factor ?? 4);
  const original = Number(scaling.original_max_position_embeddings ?? 8192);
  return Float32Array.from({ length: headDim / 2 }, (_, i) => {
    const wavelength = (2 * Math.PI) / base ** ((-2 * i) / headDim);
    if (wavelength < original / high) return 1;
    if (wavelength > original / low) return factor;
    const smooth = (original / wavelength - low) / (high - low);
    return 1 / ((1 - smooth) / factor + smooth);
  });
}

export interface SafetensorsReadOptions {
  /** The machine's memory in bytes, for the fp32-or-8-bit choice (default os.totalmem). */
  readonly totalMemory?: () => number;
}

export async function readSafetensorsFolder(folder: string, options: SafetensorsReadOptions = {}): Promise<GgufFile> {
  const configFile = path.join(folder, 'config.json');
  const raw = await readJson(configFile);
  const c: Json =
    typeof raw.text_config === 'object' && raw.text_config ? { ...raw, ...(raw.text_config as Json) } : raw;
  const arch = ARCHS[String(c.model_type)];
  if (!arch)
    throw new EngineError(
      `${configFile}: model_type "${String(c.model_type)}" is not one the inspector builds (llama, mistral, qwen2, qwen3, gemma3, phi3).`,
    );
  const num = (key: string, fallback?: number): number => {
    const v = c[key];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (fallback !== undefined) return fallback;
    throw new EngineError(`${configFile} has no ${key}.`);
  };
  const count = (key: string, max: number, fallback?: number): number => {
    const v = num(key, fallback);
    if (!Number.isInteger(v) || v < 1 || v > max)
      throw new EngineError(`${configFile}: ${key} is ${v}, not a whole number from 1 to ${max}.`);
    return v;
  };
  const layers = count('num_hidden_layers', CONFIG_LIMITS.layers);
  const hidden = count('hidden_size', CONFIG_LIMITS.hidden);
  const heads = count('num_attention_heads', CONFIG_LIMITS.heads);
  const kvHeads = count('num_key_value_heads', heads, heads);
  if (heads % kvHeads) throw new EngineError(`${configFile}: ${heads} heads do not group into ${kvHeads} KV heads.`);
  const headDim = count('head_dim', CONFIG_LIMITS.headDim, Math.floor(hidden / heads));
  const rotary = num('partial_rotary_factor', 1);
  if (rotary !== 1)
    throw new EngineError(
      `${configFile}: rotary over ${rotary} of each head (partial_rotary_factor) is not built by the inspector.`,
    );
  const base = num('rope_theta', 10000);
  const scaling = (typeof c.rope_scaling === 'object' && c.rope_scaling ? c.rope_scaling : null) as Json | null;
  const scalingType = String(scaling?.rope_type ?? scaling?.type ?? 'none');
  if (scaling && !['linear', 'llama3', 'default'].includes(scalingType))
    throw new EngineError(`${configFile}: rope scaling "${scalingType}" is not built by the inspector.`);

  const index = path.join(folder, 'model.safetensors.index.json');
  const single = path.join(folder, 'model.safetensors');
  const indexed = await fs.stat(index).then(
    () => true,
    () => false,
  );
  const files = indexed
    ? [...new Set(Object.values(((await readJson(index)).weight_map ?? {}) as Record<string, string>))].map((f) =>
        path.join(folder, path.basename(f)),
      )
    : [single];
  const tensors = new Map<string, GgufTensorInfo>();
  let size = 0;
  const dtypes = new Set<string>();
  for (const file of files) {
    const header = await readHeader(file).catch((error: unknown) => {
      throw error instanceof EngineError ? error : new EngineError(`Cannot read ${file}: ${firstLine(error)}`);
    });
    size += header.size;
    for (const [hf, entry] of header.entries) {
      const name = ggufName(hf, arch);
      if (!name) continue;
      const dtype = String(entry.dtype);
      const typeId = DTYPES[dtype];
      if (typeId === undefined)
        throw new EngineError(
          `${file}: tensor ${hf} is ${dtype}; the inspector reads F32, F16 and BF16 checkpoints (not pre-quantized ones).`,
        );
      dtypes.add(dtype);
      const shape = (entry.shape as number[]).map(Number);
      const [start, end] = (entry.data_offsets as number[]).map(Number);
      const type = QUANT_TYPES.get(typeId) as QuantType;
      const elements = shape.reduce((a, b) => a * b, 1);
      const offset = Number(entry.base) + start;
      if (end - start !== elements * type.bytes || offset + (end - start) > header.size)
        throw new EngineError(`${file}: tensor ${hf} does not fit its byte range; the file is truncated or damaged.`);
      const norm = /norm\.weight$/.test(name);
      tensors.set(name, {
        name,
        dims: [...shape].reverse(),
        type,
        offset,
        bytes: end - start,
        elements,
        file,
        ...(arch === 'gemma3' && norm ? { plusOne: true } : {}),
      });
    }
  }
  const embed = tensors.get('token_embd.weight');
  if (!embed) throw new EngineError(`${folder} has no embed_tokens weight.`);
  const window = num('sliding_window', 0);
  const pattern = num('sliding_window_pattern', 6);
  const linear = scalingType === 'linear' ? Number(scaling?.factor ?? 1) : 1;
  const hyper: GgufHyper = {
    arch,
    layers,
    hidden,
    heads,
    kvHeads,
    headDim,
    feedForward: count('intermediate_size', CONFIG_LIMITS.hidden * 8),
    epsilon: num('rms_norm_eps', 1e-6),
    context: count('max_position_embeddings', CONFIG_LIMITS.maxPositions, 4096),
    vocab: embed.dims[1],
    ropeHalves: true,
    ropeBase: base,
    ropeScale: 1 / linear,
    ropeBaseSwa: num('rope_local_base_freq', 10000),
    windows: Array.from({ length: layers }, (_, l) =>
      arch === 'gemma3' && window > 0 && (l + 1) % pattern !== 0 ? window : null,
    ),
    attentionScale: 1 / Math.sqrt(arch === 'gemma3' ? num('query_pre_attn_scalar', headDim) : headDim),
    embedScale: arch === 'gemma3' ? Math.fround(Math.sqrt(hidden)) : null,
    finalSoftcap: arch === 'gemma3' && num('final_logit_softcapping', 0) > 0 ? num('final_logit_softcapping') : null,
  };
  const floatElements = [...tensors.values()].reduce((sum, t) => sum + t.elements, 0);
  const half = dtypes.has('BF16') || dtypes.has('F16');
  const requantize8 = half && floatElements * 4 > (options.totalMemory ?? os.totalmem)() / 4;
  const stored = dtypes.has('BF16') ? 'bf16' : dtypes.has('F16') ? 'fp16' : 'fp32';
  return {
    path: folder,
    size,
    metadata: {},
    tensors,
    hyper,
    quant: requantize8 ? `q8 (${stored} quantized on load)` : half ? `fp32 (from ${stored})` : 'fp32',
    format: 'safetensors',
    requantize8,
    keyFiles: [configFile, ...files],
    ...(scalingType === 'llama3' && scaling
      ? { virtualTensors: new Map([['rope_freqs.weight', llama3Factors(scaling, headDim, base)]]) }
      : {}),
  };
}
