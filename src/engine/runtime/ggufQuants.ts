// The GGML weight types a GGUF file may hold, decoded from their block layouts (ggml-common.h) into one
// form: per element an unsigned integer code, per sub-block a float32 scale, an integer zero point and a
// float offset, so that  w = scale · (code − zero) − offset  equals llama.cpp's dequantize_row_* value to
// the bit. That form is what MatMulNBits holds (matMulNBits.ts re-encodes it: 4 bits where the codes fit,
// else 8), and dequantize() evaluates it for the float tensors (norms, biases) and the reference.
// F32, F16 and BF16 have no codes: they are read as floats.
import { EngineError } from '../engineError';
import { halfToFloatTable } from '../analysis/halfFloat';

export interface QuantType {
  readonly name: string;
  /** Elements per block and bytes per block. */
  readonly elements: number;
  readonly bytes: number;
  /** Sub-block (the scale's span) and the bits a code needs (MatMulNBits holds 4 or 8). */
  readonly subBlock: number;
  readonly codeBits: 4 | 8;
  /** Integer zero point per sub-block (constant), or null when the type has a float offset instead. */
  readonly zero: number | null;
}

const q = (
  name: string,
  elements: number,
  bytes: number,
  subBlock: number,
  codeBits: 4 | 8,
  zero: number | null,
): QuantType => ({ name, elements, bytes, subBlock, codeBits, zero });

/** By ggml_type id. Float types have subBlock 0. */
export const QUANT_TYPES: ReadonlyMap<number, QuantType> = new Map([
  [0, q('F32', 1, 4, 0, 8, null)],
  [1, q('F16', 1, 2, 0, 8, null)],
  [30, q('BF16', 1, 2, 0, 8, null)],
  [2, q('Q4_0', 32, 18, 32, 4, 8)],
  [3, q('Q4_1', 32, 20, 32, 4, null)],
  [6, q('Q5_0', 32, 22, 32, 8, 16)],
  [7, q('Q5_1', 32, 24, 32, 8, null)],
  [8, q('Q8_0', 32, 34, 32, 8, 128)],
  [10, q('Q2_K', 256, 84, 16, 4, null)],
  [11, q('Q3_K', 256, 110, 16, 4, 4)],
  [12, q('Q4_K', 256, 144, 32, 4, null)],
  [13, q('Q5_K', 256, 176, 32, 8, null)],
  [14, q('Q6_K', 256, 210, 16, 8, 32)],
]);

/** Names of the ggml types this engine does not read, for the one-line refusal. */
const OTHER_TYPE_NAMES: Readonly<Record<number, string>> = {
  9: 'Q8_1',
  15: 'Q8_K',
  16: 'IQ2_XXS',
  17: 'IQ2_XS',
  18: 'IQ3_XXS',
  19: 'IQ1_S',
  20: 'IQ4_NL',
  21: 'IQ3_S',
  22: 'IQ2_S',
  23: 'IQ4_XS',
  24: 'I8',
  25: 'I16',
  26: 'I32',
  27: 'I64',
  28: 'F64',
  29: 'IQ1_M',
  34: 'TQ1_0',
  35: 'TQ2_0',
  39: 'MXFP4',
};

export function quantType(id: number, tensorName: string): QuantType {
  const type = QUANT_TYPES.get(id);
  if (type) return type;
  const name = OTHER_TYPE_NAMES[id] ?? `unknown type ${id}`;
  throw new EngineError(
    `GGUF tensor ${tensorName} is ${name}, a weight type the inspector cannot read (it reads F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q2_K to Q6_K).`,
  );
}

export function isFloatType(type: QuantType): boolean {
  return type.subBlock === 0;
}

/** Codes, scales, zero points (null: the type's constant `zero`) and offsets (null: none) of a tensor. */
export interface QuantCodes {
  readonly type: QuantType;
  readonly codes: Uint8Array;
  readonly scales: Float32Array;
  readonly offsets: Float32Array | null;
}

const halfTable = halfToFloatTable();
const half = (b: Uint8Array, at: number): number => halfTable[b[at] | (b[at + 1] << 8)];
const f32 = Math.fround;

type BlockDecoder = (b: Uint8Array, at: number, e0: number, s0: number, out: QuantOut) => void;
interface QuantOut {
  codes: Uint8Array;
  scales: Float32Array;
  offsets: Float32Array | null;
}

/** Q4_0 / Q5_0 / Q8_0 (symmetric) and Q4_1 / Q5_1 (with a min): 32-blocks. */
function decode32(bits: 4 | 5 | 8, withMin: boolean): BlockDecoder {
  const qsAt = 2 + (withMin ? 2 : 0) + (bits === 5 ? 4 : 0);
  const qhAt = withMin ? 4 : 2;
  return (b, at, e0, s0, out) => {
    out.scales[s0] = half(b, at);
    if (out.offsets) out.offsets[s0] = -half(b, at + 2);
    if (bits === 8) {
      for (let j = 0; j < 32; j++) out.codes[e0 + j] = (b[at + 2 + j] + 128) & 0xff;
      return;
    }
    const qh =
      bits === 5 ? b[at + qhAt] | (b[at + qhAt + 1] << 8) | (b[at + qhAt + 2] << 16) | (b[at + qhAt + 3] << 24) : 0;
    for (let j = 0; j < 16; j++) {
      const byte = b[at + qsAt + j];
      out.codes[e0 + j] = (byte & 15) | (((qh >>> j) & 1) << 4);
      out.codes[e0 + j + 16] = (byte >> 4) | (((qh >>> (j + 16)) & 1) << 4);
    }
  };
}

/** Q2_K: w = d·(sc & 15)·q − dmin·(sc >> 4), 16 sub-blocks of 16. */
const decodeQ2K: BlockDecoder = (b, at, e0, s0, out) => {
  const d = half(b, at + 80);
  const dmin = half(b, at + 82);
  for (let s = 0; s < 16; s++) {
    const sc = b[at + s];
    out.scales[s0 + s] = f32(d * (sc & 15));
    (out.offsets as Float32Array)[s0 + s] = f32(dmin * (sc >> 4));
    const c = s >> 3;
    const j = (s & 7) >> 1;
    const h = s & 1;
    for (let l = 0; l < 16; l++) out.codes[e0 + 16 * s + l] = (b[at + 16 + 32 * c + 16 * h + l] >> (2 * j)) & 3;
  }
};

/** Q3_K: w = d·(sc − 32)·(u − 4), u = low 2 bits + 4·(high-mask bit), 16 sub-blocks of 16. */
const decodeQ3K: BlockDecoder = (b, at, e0, s0, out) => {
  const d = half(b, at + 108);
  for (let s = 0; s < 16; s++) {
    const i = s & 3;
    const group = s >> 2;
    const low = b[at + 96 + (group & 1 ? 4 : 0) + i];
    const sc = ((group >> 1 ? low >> 4 : low) & 15) | (((b[at + 104 + i] >> (2 * group)) & 3) << 4);
    out.scales[s0 + s] = f32(d * (sc - 32));
    const c = s >> 3;
    const j = (s & 7) >> 1;
    const h = s & 1;
    for (let l = 0; l < 16; l++) {
      const low2 = (b[at + 32 + 32 * c + 16 * h + l] >> (2 * j)) & 3;
      const high = (b[at + 16 * h + l] >> (4 * c + j)) & 1;
      out.codes[e0 + 16 * s + l] = low2 | (high << 2);
    }
  }
};

/** get_scale_min_k4: the 6-bit scale and min of sub-block j from the 12 packed bytes at `at`. */
function scaleMinK4(b: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [b[at + j] & 63, b[at + j + 4] & 63];
  return [(b[at + j + 4] & 15) | ((b[at + j - 4] >> 6) << 4), (b[at + j + 4] >> 4) | ((b[at + j] >> 6) << 4)];
}

/** Q4_K / Q5_K: w = d·sc·q − dmin·m, 8 sub-blocks of 32. */
function decodeQ45K(bits: 4 | 5): BlockDecoder {
  const qsAt = bits === 5 ? 48 : 16;
  return (b, at, e0, s0, out) => {
    const d = half(b, at);
    const dmin = half(b, at + 2);
    for (let s = 0; s < 8; s++) {
      const [sc, m] = scaleMinK4(b, at + 4, s);
      out.scales[s0 + s] = f32(d * sc);
      (out.offsets as Float32Array)[s0 + s] = f32(dmin * m);
      const c = s >> 1;
      const h = s & 1;
      for (let l = 0; l < 32; l++) {
        const low = (b[at + qsAt + 32 * c + l] >> (4 * h)) & 15;
        out.codes[e0 + 32 * s + l] = bits === 5 ? low | (((b[at + 16 + l] >> (2 * c + h)) & 1) << 4) : low;
      }
    }
  };
}

/** Q6_K: w = d·sc·(q − 32), int8 scales, 16 sub-blocks of 16. */
const decodeQ6K: BlockDecoder = (b, at, e0, s0, out) => {
  const d = half(b, at + 208);
  for (let s = 0; s < 16; s++) out.scales[s0 + s] = f32(d * ((b[at + 192 + s] << 24) >> 24));
  for (let e = 0; e < 256; e++) {
    const c = e >> 7;
    const r = e & 127;
    const quarter = r >> 5;
    const l = r & 31;
    const low = (b[at + 64 * c + l + (quarter & 1 ? 32 : 0)] >> (quarter & 2 ? 4 : 0)) & 15;
    const high = (b[at + 128 + 32 * c + l] >> (2 * quarter)) & 3;
    out.codes[e0 + e] = low | (high << 4);
  }
};

const DECODERS: Readonly<Record<string, BlockDecoder>> = {
  Q4_0: decode32(4, false),
  Q5_0: decode32(5, false),
  Q8_0: decode32(8, false),
  Q4_1: decode32(4, true),
  Q5_1: decode32(5, true),
  Q2_K: decodeQ2K,
  Q3_K: decodeQ3K,
  Q4_K: decodeQ45K(4),
  Q5_K: decodeQ45K(5),
  Q6_K: decodeQ6K,
};

/** Bytes a tensor of `count` elements takes in this type. */
export function tensorBytes(type: QuantType, count: number): number {
  return (count / type.elements) * type.bytes;
}

/** Decodes the blocks of a quantized tensor (`count` elements) into codes, scales and offsets. */
export function decodeCodes(type: QuantType, bytes: Uint8Array, count: number): QuantCodes {
  const decode = DECODERS[type.name];
  if (!decode) throw new Error(`${type.name} has no codes`);
  const out: QuantOut = {
    codes: new Uint8Array(count),
    scales: new Float32Array(count / type.subBlock),
    offsets: type.zero === null ? new Float32Array(count / type.subBlock) : null,
  };
  const perBlock = type.elements / type.subBlock;
  for (let block = 0, at = 0; block < count / type.elements; block++, at += type.bytes)
    decode(bytes, at, block * type.elements, block * perBlock, out);
  return { type, ...out };
}

/** The float32 values of a tensor of any supported type. */
export function dequantize(type: QuantType, bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type.name === 'F32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  else if (type.name === 'F16') for (let i = 0; i < count; i++) out[i] = halfTable[view.getUint16(2 * i, true)];
  else if (type.name === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
  } else {
    const c = decodeCodes(type, bytes, count);
    const zero = type.zero ?? 0;
    for (let i = 0; i < count; i++) {
      const s = (i / type.subBlock) | 0;
      const scaled = f32(c.scales[s] * (c.codes[i] - zero));
      out[i] = c.offsets ? f32(scaled - c.offsets[s]) : scaled;
    }
  }
  return out;
}

export const Q8_0 = QUANT_TYPES.get(8) as QuantType;

/** Q8_0 blocks (fp16 scale = max|x|/127, int8 codes) of float values: the 8-bit form of a large bf16 checkpoint. */
export function encodeQ8_0(values: Float32Array): Uint8Array {
  const out = new Uint8Array((values.length / 32) * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < values.length / 32; b++) {
    let max = 0;
    for (let j = 0; j < 32; j++) max = Math.max(max, Math.abs(values[32 * b + j]));
    const bits = halfBits(max / 127);
    view.setUint16(34 * b, bits, true);
    const d = halfTable[bits];
    for (let j = 0; j < 32; j++) {
      const q = d === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(values[32 * b + j] / d)));
      view.setInt8(34 * b + 2 + j, q);
    }
  }
  return out;
}

/** float → IEEE half bits, rounding to nearest (ties away; enough for a scale). */
function halfBits(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return 0;
  let lo = 0;
  let hi = 0x7bff;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (halfTable[mid] <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo < 0x7bff && value - halfTable[lo] > halfTable[lo + 1] - value ? lo + 1 : lo;
}
