// Encoders for the GGML weight types the GGUF fixtures use, written from the block layouts of llama.cpp's
// ggml-common.h (and the order its dequantize_row_* functions read them in). They are not llama.cpp's
// optimal quantizers, only valid blocks: simple absmax/min-max choices. Each returns the bytes and the
// float32 values those bytes decode to, computed here from the encoder's own parameters, so a test has
// the exact dequantized weights without using the engine's decoder.
import { fromHalfBits, toHalfBits } from './referenceDecoder';

/** ggml_type ids, as in ggml.h (and GGUF tensor infos). */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  BF16: 30,
} as const;
export type GgmlTypeName = keyof typeof GgmlType;

/** Elements per block and bytes per block of each type. */
export const BLOCK_LAYOUT: Readonly<Record<GgmlTypeName, { elements: number; bytes: number }>> = {
  F32: { elements: 1, bytes: 4 },
  F16: { elements: 1, bytes: 2 },
  BF16: { elements: 1, bytes: 2 },
  Q4_0: { elements: 32, bytes: 18 },
  Q4_1: { elements: 32, bytes: 20 },
  Q5_0: { elements: 32, bytes: 22 },
  Q5_1: { elements: 32, bytes: 24 },
  Q8_0: { elements: 32, bytes: 34 },
  Q2_K: { elements: 256, bytes: 84 },
  Q3_K: { elements: 256, bytes: 110 },
  Q4_K: { elements: 256, bytes: 144 },
  Q5_K: { elements: 256, bytes: 176 },
  Q6_K: { elements: 256, bytes: 210 },
};

export interface EncodedTensor {
  readonly bytes: Uint8Array;
  /** What the bytes decode to, element for element. */
  readonly values: Float32Array;
}

const f32 = Math.fround;
const half = (v: number): number => fromHalfBits(toHalfBits(v));

function putHalf(out: Uint8Array, at: number, value: number): number {
  const bits = toHalfBits(value);
  out[at] = bits & 0xff;
  out[at + 1] = bits >> 8;
  return fromHalfBits(bits);
}

const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v));
const maxAbs = (x: Float32Array, from: number, count: number): number => {
  let m = 0;
  for (let i = 0; i < count; i++) m = Math.max(m, Math.abs(x[from + i]));
  return m;
};

type BlockEncoder = (x: Float32Array, from: number, out: Uint8Array, at: number, values: Float32Array) => void;

/** Q4_0/Q5_0/Q8_0: one fp16 scale, symmetric codes. */
function symmetric(bits: 4 | 5 | 8): BlockEncoder {
  const levels = bits === 8 ? 127 : (1 << (bits - 1)) - 1;
  const offset = bits === 8 ? 0 : 1 << (bits - 1);
  return (x, from, out, at, values) => {
    const d = putHalf(out, at, maxAbs(x, from, 32) / levels);
    const inv = d === 0 ? 0 : 1 / d;
    for (let j = 0; j < 32; j++) {
      const q = clamp(Math.round(x[from + j] * inv), -levels - 1, levels) + offset;
      values[from + j] = f32((q - offset) * d);
      if (bits === 8) out[at + 2 + j] = q & 0xff;
      else writeLowBits(out, at + 2 + (bits === 5 ? 4 : 0), at + 2, j, q, bits);
    }
  };
}

/** Q4_1/Q5_1: fp16 scale and min, codes 0..2^bits−1. */
function affine(bits: 4 | 5): BlockEncoder {
  const top = (1 << bits) - 1;
  return (x, from, out, at, values) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < 32; j++) {
      lo = Math.min(lo, x[from + j]);
      hi = Math.max(hi, x[from + j]);
    }
    const d = putHalf(out, at, (hi - lo) / top);
    const m = putHalf(out, at + 2, lo);
    const inv = d === 0 ? 0 : 1 / d;
    for (let j = 0; j < 32; j++) {
      const q = clamp(Math.round((x[from + j] - m) * inv), 0, top);
      values[from + j] = f32(f32(q * d) + m);
      writeLowBits(out, at + 4 + (bits === 5 ? 4 : 0), at + 4, j, q, bits);
    }
  };
}

/** Nibbles of a 32-block: element j < 16 in the low nibble of byte j, j ≥ 16 in the high nibble of j − 16;
 * the fifth bits (Q5) in a little-endian u32 at `highAt`, bit j. */
function writeLowBits(out: Uint8Array, qsAt: number, highAt: number, j: number, q: number, bits: number): void {
  const nibble = q & 15;
  if (j < 16) out[qsAt + j] |= nibble;
  else out[qsAt + j - 16] |= nibble << 4;
  if (bits === 5 && q & 16) out[highAt + (j >> 3)] |= 1 << (j & 7);
}

/** Packs 6-bit scale/min pairs of the 8 sub-blocks as get_scale_min_k4 reads them (Q4_K, Q5_K). */
function putScaleMinK4(out: Uint8Array, at: number, sc: readonly number[], mn: readonly number[]): void {
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      out[at + j] |= sc[j] & 63;
      out[at + j + 4] |= mn[j] & 63;
    } else {
      out[at + j + 4] |= (sc[j] & 15) | ((mn[j] & 15) << 4);
      out[at + j - 4] |= (sc[j] >> 4) << 6;
      out[at + j] |= (mn[j] >> 4) << 6;
    }
  }
}

/** Sub-block scale and min for codes 0..top: w ≈ scale·q − min, min ≥ 0 (the K-quants' convention). */
function scaleAndMin(x: Float32Array, from: number, count: number, top: number): [number, number] {
  let lo = 0;
  let hi = -Infinity;
  for (let i = 0; i < count; i++) {
    lo = Math.min(lo, x[from + i]);
    hi = Math.max(hi, x[from + i]);
  }
  return [Math.max(0, hi - lo) / top, -lo];
}

/** Q2_K: 16 sub-blocks of 16, 4-bit scale and min per sub-block, 2-bit codes. */
const encodeQ2K: BlockEncoder = (x, from, out, at, values) => {
  const pairs = Array.from({ length: 16 }, (_, s) => scaleAndMin(x, from + 16 * s, 16, 3));
  const d = putHalf(out, at + 80, Math.max(...pairs.map((p) => p[0])) / 15);
  const dmin = putHalf(out, at + 82, Math.max(...pairs.map((p) => p[1])) / 15);
  for (let s = 0; s < 16; s++) {
    const sc = d === 0 ? 0 : clamp(Math.round(pairs[s][0] / d), 0, 15);
    const m = dmin === 0 ? 0 : clamp(Math.round(pairs[s][1] / dmin), 0, 15);
    out[at + s] = sc | (m << 4);
    const dl = f32(d * sc);
    const ml = f32(dmin * m);
    // Element e = 128c + 32j + 16h + l: byte 32c + 16h + l, shift 2j, sub-block 8c + 2j + h.
    const c = s >> 3;
    const j = (s & 7) >> 1;
    const h = s & 1;
    for (let l = 0; l < 16; l++) {
      const e = 128 * c + 32 * j + 16 * h + l;
      const q = dl === 0 ? 0 : clamp(Math.round((x[from + e] + ml) / dl), 0, 3);
      out[at + 16 + 32 * c + 16 * h + l] |= q << (2 * j);
      values[from + e] = f32(f32(dl * q) - ml);
    }
  }
};

/** Q3_K: 16 sub-blocks of 16, signed 6-bit scales, 3-bit codes (2 low bits + a high-bit mask). */
const encodeQ3K: BlockEncoder = (x, from, out, at, values) => {
  const wanted = Array.from({ length: 16 }, (_, s) => maxAbs(x, from + 16 * s, 16) / 4);
  const d = putHalf(out, at + 108, Math.max(...wanted) / 31);
  for (let s = 0; s < 16; s++) {
    const sc = d === 0 ? 0 : clamp(Math.round(wanted[s] / d), -32, 31);
    const stored = sc + 32;
    const i = s & 3;
    const group = s >> 2;
    out[at + 96 + (group & 1 ? 4 : 0) + i] |= group >> 1 ? (stored & 15) << 4 : stored & 15;
    out[at + 96 + 8 + i] |= (stored >> 4) << (2 * group);
    const dl = f32(d * sc);
    const c = s >> 3;
    const j = (s & 7) >> 1;
    const h = s & 1;
    for (let l = 0; l < 16; l++) {
      const e = 128 * c + 32 * j + 16 * h + l;
      const v = dl === 0 ? 0 : clamp(Math.round(x[from + e] / dl), -4, 3);
      const u = v + 4; // low 2 bits in qs, bit 2 in hmask (set: value = low2, clear: low2 − 4)
      out[at + 32 + 32 * c + 16 * h + l] |= (u & 3) << (2 * j);
      if (u & 4) out[at + 16 * h + l] |= 1 << (4 * c + j);
      values[from + e] = f32(dl * v);
    }
  }
};

/** Q4_K / Q5_K: 8 sub-blocks of 32, 6-bit scales and mins, 4- or 5-bit codes. */
function encodeQ45K(bits: 4 | 5): BlockEncoder {
  const top = (1 << bits) - 1;
  const qsAt = bits === 5 ? 48 : 16;
  return (x, from, out, at, values) => {
    const pairs = Array.from({ length: 8 }, (_, s) => scaleAndMin(x, from + 32 * s, 32, top));
    const d = putHalf(out, at, Math.max(...pairs.map((p) => p[0])) / 63);
    const dmin = putHalf(out, at + 2, Math.max(...pairs.map((p) => p[1])) / 63);
    const sc = pairs.map((p) => (d === 0 ? 0 : clamp(Math.round(p[0] / d), 0, 63)));
    const mn = pairs.map((p) => (dmin === 0 ? 0 : clamp(Math.round(p[1] / dmin), 0, 63)));
    putScaleMinK4(out, at + 4, sc, mn);
    for (let s = 0; s < 8; s++) {
      const dl = f32(d * sc[s]);
      const ml = f32(dmin * mn[s]);
      const c = s >> 1;
      const h = s & 1;
      for (let l = 0; l < 32; l++) {
        const e = 32 * s + l;
        const q = dl === 0 ? 0 : clamp(Math.round((x[from + e] + ml) / dl), 0, top);
        out[at + qsAt + 32 * c + l] |= (q & 15) << (4 * h);
        if (q & 16) out[at + 16 + l] |= 1 << (2 * c + h);
        values[from + e] = f32(f32(dl * q) - ml);
      }
    }
  };
}

/** Q6_K: 16 sub-blocks of 16, int8 scales, 6-bit codes (4 low bits in ql, 2 high bits in qh). */
const encodeQ6K: BlockEncoder = (x, from, out, at, values) => {
  const wanted = Array.from({ length: 16 }, (_, s) => maxAbs(x, from + 16 * s, 16) / 31);
  const d = putHalf(out, at + 208, Math.max(...wanted) / 127);
  const sc = wanted.map((w) => (d === 0 ? 0 : clamp(Math.round(w / d), -128, 127)));
  for (let s = 0; s < 16; s++) out[at + 192 + s] = sc[s] & 0xff;
  for (let e = 0; e < 256; e++) {
    const c = e >> 7; // 128-chunk
    const r = e & 127;
    const quarter = r >> 5; // 0: ql[l] low, 1: ql[l+32] low, 2: ql[l] high, 3: ql[l+32] high
    const l = r & 31;
    const s = 8 * c + (l >> 4) + 2 * quarter;
    const dl = f32(d * sc[s]);
    const v = dl === 0 ? 0 : clamp(Math.round(x[from + e] / dl), -32, 31);
    const q = v + 32;
    out[at + 64 * c + l + (quarter & 1 ? 32 : 0)] |= (q & 15) << (quarter & 2 ? 4 : 0);
    out[at + 128 + 32 * c + l] |= (q >> 4) << (2 * quarter);
    values[from + e] = f32(dl * v);
  }
};

const BLOCK_ENCODERS: Partial<Record<GgmlTypeName, BlockEncoder>> = {
  Q4_0: symmetric(4),
  Q5_0: symmetric(5),
  Q8_0: symmetric(8),
  Q4_1: affine(4),
  Q5_1: affine(5),
  Q2_K: encodeQ2K,
  Q3_K: encodeQ3K,
  Q4_K: encodeQ45K(4),
  Q5_K: encodeQ45K(5),
  Q6_K: encodeQ6K,
};

function bf16Bits(v: number): number {
  const bits = new Uint32Array(Float32Array.of(v).buffer)[0];
  return ((bits + 0x7fff + ((bits >> 16) & 1)) >>> 16) & 0xffff; // round to nearest even
}

/** Encodes `x` (rows of `rowLength`, row-major) as `type`. The row length must be a multiple of the block. */
export function encodeTensor(type: GgmlTypeName, x: Float32Array, rowLength: number): EncodedTensor {
  const { elements, bytes } = BLOCK_LAYOUT[type];
  if (rowLength % elements !== 0) throw new Error(`${type} needs rows of a multiple of ${elements}`);
  const blocks = x.length / elements;
  const out = new Uint8Array(blocks * bytes);
  const values = new Float32Array(x.length);
  const view = new DataView(out.buffer);
  if (type === 'F32') {
    x.forEach((v, i) => view.setFloat32(4 * i, v, true));
    values.set(x);
  } else if (type === 'F16') {
    x.forEach((v, i) => {
      view.setUint16(2 * i, toHalfBits(v), true);
      values[i] = half(v);
    });
  } else if (type === 'BF16') {
    x.forEach((v, i) => {
      const b = bf16Bits(v);
      view.setUint16(2 * i, b, true);
      values[i] = new Float32Array(new Uint32Array([b << 16]).buffer)[0];
    });
  } else {
    const encode = BLOCK_ENCODERS[type] as BlockEncoder;
    for (let b = 0; b < blocks; b++) encode(x, b * elements, out, b * bytes, values);
  }
  return { bytes: out, values };
}
