// A small Llama-style decoder as plain weights plus an independent float64 forward pass in JS: the
// reference that every export-style fixture (exportStyleGraph.ts) is checked against. RMSNorm, rotary
// (half split, as HF rotate_half), grouped-query attention, SiLU-gated MLP, untied LM head.
// Also the weight transforms real exports apply: 4-bit block quantization (MatMulNBits) and fp16 rounding.
import { randomWeights, seededRandom } from './onnxBuilder';

export interface DecoderShape {
  readonly vocabSize: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly intermediate: number;
  readonly maxPositions: number;
}

export interface LayerWeights {
  readonly inNorm: Float32Array;
  /** [hidden, heads·hd], [hidden, kv·hd], [hidden, kv·hd], row-major (in × out). */
  readonly wq: Float32Array;
  readonly wk: Float32Array;
  readonly wv: Float32Array;
  readonly wo: Float32Array;
  readonly postNorm: Float32Array;
  readonly gate: Float32Array;
  readonly up: Float32Array;
  readonly down: Float32Array;
}

export interface DecoderWeights {
  readonly shape: DecoderShape;
  readonly embed: Float32Array;
  readonly layers: readonly LayerWeights[];
  readonly finalNorm: Float32Array;
  readonly lmHead: Float32Array;
}

/** The small GQA shape the export-style tests share: hidden 64, 2 layers, 4 query heads over 2 KV heads. */
export function smallGqaShape(vocabSize: number, maxPositions: number): DecoderShape {
  return { vocabSize, hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 96, maxPositions };
}

export const RMS_EPSILON = 1e-5;
export const ROPE_THETA = 10000;

export function headDim(shape: DecoderShape): number {
  return shape.hidden / shape.heads;
}

export function randomDecoder(shape: DecoderShape, seed = 5): DecoderWeights {
  const random = seededRandom(seed);
  const D = shape.hidden;
  const hd = headDim(shape);
  const matrix = (rows: number, cols: number, std: number): Float32Array => randomWeights(random, rows * cols, std);
  const norm = (): Float32Array => Float32Array.from({ length: D }, () => 0.8 + 0.4 * random());
  const layers = Array.from({ length: shape.layers }, () => ({
    inNorm: norm(),
    wq: matrix(D, shape.heads * hd, 2 / Math.sqrt(D)),
    wk: matrix(D, shape.kvHeads * hd, 2 / Math.sqrt(D)),
    wv: matrix(D, shape.kvHeads * hd, 1 / Math.sqrt(D)),
    wo: matrix(shape.heads * hd, D, 1 / Math.sqrt(D)),
    postNorm: norm(),
    gate: matrix(D, shape.intermediate, 1 / Math.sqrt(D)),
    up: matrix(D, shape.intermediate, 1 / Math.sqrt(D)),
    down: matrix(shape.intermediate, D, 1 / Math.sqrt(shape.intermediate)),
  }));
  return {
    shape,
    embed: matrix(shape.vocabSize, D, 1),
    layers,
    finalNorm: norm(),
    lmHead: matrix(D, shape.vocabSize, 1 / Math.sqrt(D)),
  };
}

/** Applies `fn` to every projection matrix (not the embedding, norms or LM head), as quantizers do. */
export function mapProjections(
  w: DecoderWeights,
  fn: (m: Float32Array, rows: number, cols: number) => Float32Array,
): DecoderWeights {
  const { hidden: D, heads, kvHeads, intermediate: I } = w.shape;
  const hd = headDim(w.shape);
  return {
    ...w,
    layers: w.layers.map((l) => ({
      ...l,
      wq: fn(l.wq, D, heads * hd),
      wk: fn(l.wk, D, kvHeads * hd),
      wv: fn(l.wv, D, kvHeads * hd),
      wo: fn(l.wo, heads * hd, D),
      gate: fn(l.gate, D, I),
      up: fn(l.up, D, I),
      down: fn(l.down, I, D),
    })),
  };
}

/** float32 → IEEE half bits (round to nearest even). */
export function toHalfBits(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  e = half;
  return sign | e;
}

export function fromHalfBits(h: number): number {
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * 2 ** -14 * (mantissa / 1024);
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
}

export function roundToHalf(m: Float32Array): Float32Array {
  return Float32Array.from(m, (v) => fromHalfBits(toHalfBits(v)));
}

/** Every weight rounded to fp16: what an fp16 export holds. */
export function halfDecoder(w: DecoderWeights): DecoderWeights {
  const r = roundToHalf;
  return {
    ...mapProjections(w, (m) => r(m)),
    embed: r(w.embed),
    finalNorm: r(w.finalNorm),
    lmHead: r(w.lmHead),
    layers: w.layers.map((l) => ({
      ...l,
      inNorm: r(l.inNorm),
      postNorm: r(l.postNorm),
      wq: r(l.wq),
      wk: r(l.wk),
      wv: r(l.wv),
      wo: r(l.wo),
      gate: r(l.gate),
      up: r(l.up),
      down: r(l.down),
    })),
  };
}

export const Q4_BLOCK = 32;

/** MatMulNBits (bits 4, no zero points: zero point 8) of a [K, N] matrix: packed B [N, K/32, 16], scales [N·K/32]. */
export interface Q4Matrix {
  readonly packed: Uint8Array;
  readonly scales: Float32Array;
  readonly dequantized: Float32Array;
}

export function quantizeQ4(m: Float32Array, K: number, N: number): Q4Matrix {
  const blocks = K / Q4_BLOCK;
  const packed = new Uint8Array(N * blocks * (Q4_BLOCK / 2));
  const scales = new Float32Array(N * blocks);
  const dequantized = new Float32Array(K * N);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < blocks; b++) {
      let max = 0;
      for (let j = 0; j < Q4_BLOCK; j++) max = Math.max(max, Math.abs(m[(b * Q4_BLOCK + j) * N + n]));
      const scale = Math.fround(max / 7 || 1);
      scales[n * blocks + b] = scale;
      for (let j = 0; j < Q4_BLOCK; j++) {
        const k = b * Q4_BLOCK + j;
        const q = Math.max(0, Math.min(15, Math.round(m[k * N + n] / scale) + 8));
        const byte = (n * blocks + b) * (Q4_BLOCK / 2) + (j >> 1);
        packed[byte] |= j & 1 ? q << 4 : q;
        dequantized[k * N + n] = (q - 8) * scale;
      }
    }
  }
  return { packed, scales, dequantized };
}

export interface ReferenceRun {
  /** Per layer: [heads, n, n] probabilities, float64. */
  readonly probs: Float64Array[];
  /** [n, vocab]. */
  readonly logits: Float64Array;
  /** Per layer: the value vectors [n, kvHeads·headDim] (attention × value norm reads them). */
  readonly values: Float64Array[];
}

/** RMSNorm over each of `rows` rows of `width` values, scaled by `weight` (one norm for both reference passes). */
export function rmsNorm(x: Float64Array, rows: number, width: number, weight: Float32Array, eps: number): Float64Array {
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < width; c++) sum += x[r * width + c] ** 2;
    const inv = 1 / Math.sqrt(sum / width + eps);
    for (let c = 0; c < width; c++) out[r * width + c] = x[r * width + c] * inv * weight[c];
  }
  return out;
}

function matmul(x: Float64Array, w: Float32Array, n: number, K: number, N: number): Float64Array {
  const out = new Float64Array(n * N);
  for (let t = 0; t < n; t++)
    for (let k = 0; k < K; k++) {
      const v = x[t * K + k];
      for (let j = 0; j < N; j++) out[t * N + j] += v * w[k * N + j];
    }
  return out;
}

function rotate(x: Float64Array, n: number, heads: number, hd: number): void {
  const half = hd / 2;
  for (let t = 0; t < n; t++)
    for (let h = 0; h < heads; h++)
      for (let i = 0; i < half; i++) {
        const angle = t / ROPE_THETA ** ((2 * i) / hd);
        const a = t * heads * hd + h * hd + i;
        const x1 = x[a];
        const x2 = x[a + half];
        x[a] = x1 * Math.cos(angle) - x2 * Math.sin(angle);
        x[a + half] = x2 * Math.cos(angle) + x1 * Math.sin(angle);
      }
}

/** The float64 forward pass on `ids` (positions 0..n−1, causal, no cache). */
export function referenceForward(w: DecoderWeights, ids: readonly number[]): ReferenceRun {
  const { hidden: D, heads: H, kvHeads: KV, intermediate: I, vocabSize: V } = w.shape;
  const hd = headDim(w.shape);
  const n = ids.length;
  const x = new Float64Array(n * D);
  ids.forEach((id, t) => {
    for (let c = 0; c < D; c++) x[t * D + c] = w.embed[id * D + c];
  });
  const probs: Float64Array[] = [];
  const values: Float64Array[] = [];
  for (const l of w.layers) {
    const h = rmsNorm(x, n, D, l.inNorm, RMS_EPSILON);
    const q = matmul(h, l.wq, n, D, H * hd);
    const k = matmul(h, l.wk, n, D, KV * hd);
    const v = matmul(h, l.wv, n, D, KV * hd);
    values.push(v);
    rotate(q, n, H, hd);
    rotate(k, n, KV, hd);
    const p = new Float64Array(H * n * n);
    const attended = new Float64Array(n * H * hd);
    for (let head = 0; head < H; head++) {
      const kvHead = Math.floor(head / (H / KV));
      for (let i = 0; i < n; i++) {
        const row = new Float64Array(i + 1);
        let max = -Infinity;
        for (let j = 0; j <= i; j++) {
          let dot = 0;
          for (let c = 0; c < hd; c++) dot += q[i * H * hd + head * hd + c] * k[j * KV * hd + kvHead * hd + c];
          row[j] = dot / Math.sqrt(hd);
          max = Math.max(max, row[j]);
        }
        let sum = 0;
        for (let j = 0; j <= i; j++) sum += row[j] = Math.exp(row[j] - max);
        for (let j = 0; j <= i; j++) {
          const weight = row[j] / sum;
          p[head * n * n + i * n + j] = weight;
          for (let c = 0; c < hd; c++)
            attended[i * H * hd + head * hd + c] += weight * v[j * KV * hd + kvHead * hd + c];
        }
      }
    }
    probs.push(p);
    const o = matmul(attended, l.wo, n, H * hd, D);
    for (let i = 0; i < x.length; i++) x[i] += o[i];
    const h2 = rmsNorm(x, n, D, l.postNorm, RMS_EPSILON);
    const gate = matmul(h2, l.gate, n, D, I);
    const up = matmul(h2, l.up, n, D, I);
    for (let i = 0; i < gate.length; i++) gate[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
    const down = matmul(gate, l.down, n, I, D);
    for (let i = 0; i < x.length; i++) x[i] += down[i];
  }
  return { probs, logits: matmul(rmsNorm(x, n, D, w.finalNorm, RMS_EPSILON), w.lmHead, n, D, V), values };
}

/** Largest |a − b| over the first `count` elements. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, count = Math.min(a.length, b.length)): number {
  let worst = 0;
  for (let i = 0; i < count; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
