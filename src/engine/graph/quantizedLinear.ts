// A GGUF weight matrix in the built graph, kept quantized: com.microsoft MatMulNBits holds the decoded codes
// (ggufQuants.ts) with their block scales and zero points, re-encoded exactly:
// - codes that fit 4 bits (Q4_0, Q4_1, Q2_K, Q3_K, Q4_K) as 4-bit, the others (Q5_0, Q5_1, Q8_0, Q5_K,
//   Q6_K) as 8-bit, each block's scale as is;
// - an integer zero point (Q4_0: 8, Q3_K: 4, Q5_0: 16, Q8_0: 128, Q6_K: 32) as MatMulNBits' uint8 zero point;
// - a float offset (w = s·q − m: Q4_1, Q2_K, Q4_K) as a float zero point m/s, which onnxruntime 1.30's CPU
//   kernel accepts for 4 bits only; for 8 bits (Q5_1, Q5_K) as zero point 0 plus a correction
//   − blocksum(x)·mᵀ, exact, one float per block.
// accuracy_level 0: the activations stay float32 and the weights are dequantized block by block, so the
// product equals a float32 MatMul on the dequantized weights (to summation order). Level 4 would quantize the
// activations to int8 blocks like llama.cpp does, faster but off by about 1e-2 relative.
// F32/F16/BF16 matrices become float32 Gemm weights. The embedding gathers rows from the same initializers.
import type { QuantCodes, QuantType } from '../runtime/ggufQuants';
import { decodeCodes, dequantize, isFloatType } from '../runtime/ggufQuants';
import type { ModelBuilder } from './modelBuilder';
import { ElemType } from './modelBuilder';

export const MATMUL_ACCURACY_LEVEL = 0;

export interface MatrixSource {
  readonly name: string;
  /** ggml dims: [K (row length), N (rows)]. */
  readonly dims: readonly number[];
  readonly type: QuantType;
  readonly bytes: Uint8Array;
}

export type PreparedMatrix =
  | { readonly kind: 'float'; readonly K: number; readonly N: number; readonly table: string }
  | {
      readonly kind: 'nbits';
      readonly K: number;
      readonly N: number;
      readonly bits: 4 | 8;
      readonly block: number;
      readonly packed: string;
      readonly scales: string;
      /** uint8 (packed like B) or float zero points; none: the default (8 or 128). */
      readonly zeros: string | null;
      readonly floatZeros: boolean;
      /** A constant integer zero point for the embedding's gather (when `zeros` is uint8 or absent). */
      readonly zero: number;
      /** [N, K/block] float offsets subtracted after the product (8-bit offset types). */
      readonly offsets: string | null;
    };

function floatZeroPoints(c: QuantCodes): Float32Array {
  const { codes, scales } = c;
  const offsets = c.offsets as Float32Array;
  const block = c.type.subBlock;
  const zeros = new Float32Array(scales.length);
  for (let s = 0; s < scales.length; s++) {
    if (scales[s] !== 0) {
      zeros[s] = offsets[s] / scales[s];
      continue;
    }
    // Scale 0: every weight of the block is −m. Codes 0, scale m, zero point 1 give exactly that.
    codes.fill(0, s * block, (s + 1) * block);
    scales[s] = offsets[s];
    zeros[s] = offsets[s] === 0 ? 0 : 1;
  }
  return zeros;
}

/** `gatherOnly`: the matrix is only looked up by rows (an untied embedding), MatMulNBits' zero points unused. */
export function prepareMatrix(b: ModelBuilder, source: MatrixSource, gatherOnly = false): PreparedMatrix {
  const [K, N] = source.dims;
  const { type } = source;
  if (isFloatType(type)) {
    const values = dequantize(type, source.bytes, K * N);
    return { kind: 'float', K, N, table: b.floats(source.name, [N, K], values) };
  }
  const c = decodeCodes(type, source.bytes, K * N);
  const bits = type.codeBits;
  const block = type.subBlock;
  const blocks = K / block;
  const defaultZero = bits === 4 ? 8 : 128;
  let zeros: string | null = null;
  let offsets: string | null = null;
  let floatZeros = false;
  let zero = defaultZero;
  if (type.zero === null && bits === 4) {
    zeros = b.floats(`${source.name}.zeros`, [N * blocks], floatZeroPoints(c));
    floatZeros = true;
  } else {
    zero = type.zero ?? 0;
    if (zero !== defaultZero && !gatherOnly) {
      const perRow = bits === 4 ? Math.ceil(blocks / 2) : blocks;
      zeros = b.tensor(
        `${source.name}.zeros`,
        ElemType.UINT8,
        [N * perRow],
        new Uint8Array(N * perRow).fill(bits === 4 ? zero | (zero << 4) : zero),
      );
    }
    if (c.offsets) offsets = b.floats(`${source.name}.offsets`, [N, blocks], c.offsets);
  }
  let packedBytes: Uint8Array = c.codes;
  if (bits === 4) {
    packedBytes = new Uint8Array(c.codes.length / 2);
    for (let i = 0; i < c.codes.length; i += 2) packedBytes[i >> 1] = c.codes[i] | (c.codes[i + 1] << 4);
  }
  const packed = b.tensor(source.name, ElemType.UINT8, [N, blocks, (block * bits) / 8], packedBytes);
  const scales = b.floats(`${source.name}.scales`, [N * blocks], c.scales);
  return { kind: 'nbits', K, N, bits, block, packed, scales, zeros, floatZeros, zero, offsets };
}

/** x [rows, K] → [rows, N]. */
export function applyMatrix(b: ModelBuilder, x: string, m: PreparedMatrix): string {
  if (m.kind === 'float') return b.node('Gemm', [x, m.table], { transB: 1 });
  const inputs = [x, m.packed, m.scales, ...(m.zeros ? [m.zeros] : [])];
  const y = b.node(
    'MatMulNBits',
    inputs,
    { K: m.K, N: m.N, bits: m.bits, block_size: m.block, accuracy_level: MATMUL_ACCURACY_LEVEL },
    'com.microsoft',
  );
  if (!m.offsets) return y;
  const blocks = m.K / m.block;
  const sums = b.node('ReduceSum', [b.node('Reshape', [x, b.ints([-1, blocks, m.block])]), b.ints([-1])], {
    keepdims: 0,
  });
  return b.node('Sub', [y, b.node('Gemm', [sums, m.offsets], { transB: 1 })]);
}

/** Rows `ids` ([rows] int64) of the matrix, as float32 [rows, K]: the embedding lookup. */
export function gatherRows(b: ModelBuilder, ids: string, m: PreparedMatrix): string {
  if (m.kind === 'float') return b.node('Gather', [m.table, ids], { axis: 0 });
  const blocks = m.K / m.block;
  const raw = b.node('Cast', [b.node('Gather', [m.packed, ids], { axis: 0 })], { to: ElemType.FLOAT });
  let codes = raw; // [rows, blocks, block]
  if (m.bits === 4) {
    const high = b.node('Floor', [b.node('Div', [raw, b.float(16)])]);
    const low = b.node('Sub', [raw, b.node('Mul', [high, b.float(16)])]);
    const pairs = b.node(
      'Concat',
      [b.node('Unsqueeze', [low, b.ints([-1])]), b.node('Unsqueeze', [high, b.ints([-1])])],
      {
        axis: -1,
      },
    );
    codes = b.node('Reshape', [pairs, b.ints([-1, blocks, m.block])]);
  }
  const perBlock = (t: string): string =>
    b.node('Unsqueeze', [
      b.node('Gather', [b.node('Reshape', [t, b.ints([m.N, blocks])]), ids], { axis: 0 }),
      b.ints([-1]),
    ]);
  const zero = m.floatZeros && m.zeros ? perBlock(m.zeros) : b.float(m.zero);
  let w = b.node('Mul', [b.node('Sub', [codes, zero]), perBlock(m.scales)]);
  if (m.offsets) w = b.node('Sub', [w, perBlock(m.offsets)]);
  return b.node('Reshape', [w, b.ints([-1, m.K])]);
}
