// A GGUF file as the engine reads it: @huggingface/gguf parses the header, metadata and tensor infos (no
// parser of our own); this module checks them against the file (every tensor's bytes inside it, a type we
// read, sane sizes) and reads the architecture's hyperparameters with llama.cpp's keys and defaults
// (llama-model.cpp, models/*.cpp). Tensor bytes are read later from the file at their offsets. A cached
// entry keeps what this reads (builtSource.ts): a change to it bumps SOURCE_VERSION there.
import * as fs from 'node:fs/promises';
import { gguf } from '@huggingface/gguf';
import { EngineError } from '../engineError';
import { firstLine } from '../../shared/errorText';
import { CONFIG_LIMITS } from './configLimits';
import type { QuantType } from './ggufQuants';
import { quantType, tensorBytes } from './ggufQuants';

export const GGUF_ARCHITECTURES = ['llama', 'qwen2', 'qwen3', 'gemma3', 'phi3'] as const;
export type GgufArchitecture = (typeof GGUF_ARCHITECTURES)[number];

export interface GgufTensorInfo {
  readonly name: string;
  /** ggml dims, innermost (the row length) first. */
  readonly dims: readonly number[];
  readonly type: QuantType;
  /** Absolute offset in the file, and byte length. */
  readonly offset: number;
  readonly bytes: number;
  readonly elements: number;
  /** The file holding the bytes, when not the model's own path (a safetensors shard). */
  readonly file?: string;
  /** Add 1 to the values (Gemma's HF norm weights, which GGUF stores with the 1 added). */
  readonly plusOne?: boolean;
}

export interface GgufHyper {
  readonly arch: GgufArchitecture;
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly feedForward: number;
  readonly epsilon: number;
  readonly context: number;
  readonly vocab: number;
  /** Rotary on the two halves (NEOX) or on adjacent pairs (llama). */
  readonly ropeHalves: boolean;
  readonly ropeBase: number;
  readonly ropeScale: number;
  readonly ropeBaseSwa: number;
  /** Per layer: the sliding window (null: full causal). */
  readonly windows: readonly (number | null)[];
  /** What Q·Kᵀ is multiplied by. */
  readonly attentionScale: number;
  readonly embedScale: number | null;
  readonly finalSoftcap: number | null;
}

export interface GgufFile {
  readonly path: string;
  readonly size: number;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly tensors: ReadonlyMap<string, GgufTensorInfo>;
  readonly hyper: GgufHyper;
  /** The file's quantization: general.file_type's name, else the per-tensor mix of the matrices. */
  readonly quant: string;
  readonly format?: 'gguf' | 'safetensors';
  /** Float matrices quantized to 8 bits (Q8_0 blocks) on load (a bf16 checkpoint too large for fp32). */
  readonly requantize8?: boolean;
  /** The files the cache key stats (default: path). */
  readonly keyFiles?: readonly string[];
  /** Tensors computed rather than read (a checkpoint's Llama 3 rope scaling as rope_freqs.weight). */
  readonly virtualTensors?: ReadonlyMap<string, Float32Array>;
}

const FILE_TYPES: Readonly<Record<number, string>> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  32: 'BF16',
};

function quantLabel(metadata: Readonly<Record<string, unknown>>, tensors: Iterable<GgufTensorInfo>): string {
  const fileType = metadata['general.file_type'];
  if (typeof fileType === 'number' && FILE_TYPES[fileType]) return FILE_TYPES[fileType];
  const counts = new Map<string, number>();
  for (const t of tensors)
    if (t.dims.length === 2) counts.set(t.type.name, (counts.get(t.type.name) ?? 0) + t.elements);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([name]) => name)
    .join('+');
}

export async function readGgufFile(file: string): Promise<GgufFile> {
  let size: number;
  try {
    size = (await fs.stat(file)).size;
  } catch {
    throw new EngineError(`Model file not found: ${file}`);
  }
  let parsed: Awaited<ReturnType<typeof gguf>>;
  try {
    parsed = await gguf(file, { allowLocalFile: true });
  } catch (error) {
    throw new EngineError(`${file} is not a readable GGUF file (${firstLine(error)}).`);
  }
  const metadata = parsed.metadata as unknown as Readonly<Record<string, unknown>>;
  const dataStart = Number(parsed.tensorDataOffset);
  // The parser reads zeros past the end of the file: a header that ends beyond it is a truncated file.
  if (!(parsed.tensorInfoByteRange[1] <= size) || dataStart > size)
    throw new EngineError(`${file} is truncated: its header runs past the end of the file (${size} bytes).`);
  const tensors = new Map<string, GgufTensorInfo>();
  for (const info of parsed.tensorInfos) {
    const dims = info.shape.map(Number);
    const type = quantType(info.dtype, info.name);
    const elements = dims.reduce((a, b) => a * b, 1);
    if (
      !dims.every((d) => Number.isSafeInteger(d) && d > 0) ||
      elements % type.elements !== 0 ||
      dims[0] % type.elements
    )
      throw new EngineError(
        `GGUF tensor ${info.name} in ${file} has dims [${dims.join(', ')}], invalid for ${type.name}.`,
      );
    const offset = dataStart + Number(info.offset);
    const bytes = tensorBytes(type, elements);
    if (!Number.isSafeInteger(offset + bytes) || offset + bytes > size)
      throw new EngineError(
        `GGUF tensor ${info.name} lies past the end of ${file} (its data ends at byte ${offset + bytes}, the file has ${size}); the file is truncated or damaged.`,
      );
    tensors.set(info.name, { name: info.name, dims, type, offset, bytes, elements });
  }
  const hyper = readHyper(metadata, tensors, file);
  return { path: file, size, metadata, tensors, hyper, quant: quantLabel(metadata, tensors.values()) };
}

function readHyper(
  m: Readonly<Record<string, unknown>>,
  tensors: ReadonlyMap<string, GgufTensorInfo>,
  file: string,
): GgufHyper {
  const arch = m['general.architecture'];
  if (typeof arch !== 'string') throw new EngineError(`${file} has no general.architecture; it is not a model GGUF.`);
  if (!(GGUF_ARCHITECTURES as readonly string[]).includes(arch))
    throw new EngineError(
      `${file} is a "${arch}" model; the inspector builds ${GGUF_ARCHITECTURES.join(', ')} GGUF models.`,
    );
  const a = arch as GgufArchitecture;
  const num = (key: string, fallback?: number): number => {
    const value = m[`${a}.${key}`];
    const n = typeof value === 'bigint' ? Number(value) : value;
    if (typeof n === 'number' && Number.isFinite(n)) return n;
    if (Array.isArray(n))
      throw new EngineError(`${file}: ${a}.${key} varies by layer, which the inspector does not build.`);
    if (fallback !== undefined) return fallback;
    throw new EngineError(`${file} has no ${a}.${key}.`);
  };
  const count = (key: string, max: number, fallback?: number): number => {
    const n = num(key, fallback);
    if (!Number.isInteger(n) || n < 1 || n > max)
      throw new EngineError(`${file}: ${a}.${key} is ${n}, not a whole number from 1 to ${max}.`);
    return n;
  };
  const layers = count('block_count', CONFIG_LIMITS.layers);
  const hidden = count('embedding_length', CONFIG_LIMITS.hidden);
  const heads = count('attention.head_count', CONFIG_LIMITS.heads);
  const kvHeads = count('attention.head_count_kv', heads, heads);
  if (heads % kvHeads !== 0) throw new EngineError(`${file}: ${heads} heads do not group into ${kvHeads} KV heads.`);
  const headDim = count('attention.key_length', CONFIG_LIMITS.headDim, Math.floor(hidden / heads) || 1);
  const ropeDim = count('rope.dimension_count', CONFIG_LIMITS.headDim, headDim);
  if (ropeDim !== headDim || headDim % 2)
    throw new EngineError(`${file}: rotary over ${ropeDim} of ${headDim} dimensions is not built by the inspector.`);
  const embed = tensors.get('token_embd.weight');
  if (!embed || embed.dims.length !== 2 || embed.dims[0] !== hidden)
    throw new EngineError(`${file} has no token_embd.weight of ${hidden} columns.`);
  const tokens = m['tokenizer.ggml.tokens'];
  const vocab = Array.isArray(tokens) ? tokens.length : embed.dims[1];
  if (vocab > embed.dims[1])
    throw new EngineError(
      `${file}: the vocabulary has ${vocab} tokens but token_embd.weight has ${embed.dims[1]} rows; the file is inconsistent.`,
    );
  const window = num('attention.sliding_window', 0);
  const pattern = num('attention.sliding_window_pattern', 6);
  const windows = Array.from({ length: layers }, (_, l) =>
    a === 'gemma3' && window > 0 && (pattern === 0 || l % pattern < pattern - 1) ? window : null,
  );
  const scaling = num('rope.scaling.factor', num('rope.scale_linear', 0));
  const softcap = num('final_logit_softcapping', 0);
  return {
    arch: a,
    layers,
    hidden,
    heads,
    kvHeads,
    headDim,
    feedForward: count('feed_forward_length', CONFIG_LIMITS.hidden * 8),
    epsilon: num('attention.layer_norm_rms_epsilon', 1e-6),
    context: count('context_length', CONFIG_LIMITS.maxPositions, 4096),
    vocab: embed.dims[1],
    ropeHalves: a !== 'llama',
    ropeBase: num('rope.freq_base', 10000),
    ropeScale: scaling === 0 ? 1 : 1 / scaling,
    ropeBaseSwa: num('rope.freq_base_swa', 10000),
    windows,
    // gemma3 scales Q by 1/√(hidden/heads) in its 27B (62 layers), else 1/√headDim (models/gemma3.cpp).
    attentionScale: a === 'gemma3' && layers === 62 ? 1 / Math.sqrt(hidden / heads) : 1 / Math.sqrt(headDim),
    embedScale: a === 'gemma3' ? Math.fround(Math.sqrt(hidden)) : null,
    finalSoftcap: softcap > 0 ? softcap : null,
  };
}

/** Reads one tensor's bytes. */
export async function readTensorBytes(handle: fs.FileHandle, info: GgufTensorInfo): Promise<Uint8Array> {
  const buffer = new Uint8Array(info.bytes);
  const { bytesRead } = await handle.read(buffer, 0, info.bytes, info.offset);
  if (bytesRead !== info.bytes)
    throw new EngineError(`GGUF tensor ${info.name} could not be read whole (file changed?).`);
  return buffer;
}
