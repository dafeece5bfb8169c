// A GGUF weight matrix in the built graph, kept quantized: com.microsoft MatMulNBits holds the decoded codes
// (ggufQuants.ts) with their block scales, re-encoded exactly:
// - codes that fit 4 bits (Q4_0, Q4_1, Q2_K, Q3_K, Q4_K) as 4-bit, the others (Q5_0, Q5_1, Q8_0, Q5_K,
//   Q6_K) as 8-bit, each block's scale as is;
// - an integer zero point (Q4_0: 8, Q3_K: 4, Q5_0: 16, Q8_0: 128, Q6_K: 32) moved onto MatMulNBits' default
//   (8 or 128) by shifting the codes (Q5_0's 0..31 become 112..143), so no zero-point tensor is stored;
// - a float offset (w = s·q − m: Q4_1, Q2_K, Q4_K) as a float zero point m/s, which onnxruntime 1.30's CPU
//   kernel accepts for 4 bits only; for 8 bits (Q5_1, Q5_K) as the default zero point (codes shifted by 128)
//   plus a correction − blocksum(x)·mᵀ, exact, one float per block.
// accuracy_level 0: the activations stay float32 and the weights are dequantized block by block, so the
// product equals a float32 MatMul on the dequantized weights (to summation order). Level 4 would quantize the
// activations to int8 blocks like llama.cpp does, faster but off by about 1e-2 relative.
// F32/F16/BF16 matrices become float32 Gemm weights. The embedding gathers rows from the same initializers; a
// large 8-bit matrix is split into row parts (views of the same bytes) that the LM head's products and a tied
// embedding's lookups share, so its bytes are mapped once (a second mapping of the table counted its touched
// pages twice in the process's resident memory).
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

/** Rows [start, start + N) of an n-bit matrix: its codes, scales and per-block terms (views of the same bytes). */
export interface MatrixPart {
  readonly start: number;
  readonly N: number;
  /** uint8 [N, blocks, block·bits/8]. */
  readonly packed: string;
  /** float [N·blocks]. */
  readonly scales: string;
  /** float zero points [N·blocks] (4-bit offset types), else none: MatMulNBits' default (8 or 128). */
  readonly zeros: string | null;
  /** float [N, blocks] offsets subtracted after the product (8-bit offset types). */
  readonly offsets: string | null;
}

export type PreparedMatrix =
  | { readonly kind: 'float'; readonly K: number; readonly N: number; readonly table: string }
  | {
      readonly kind: 'nbits';
      readonly K: number;
      readonly N: number;
      readonly bits: 4 | 8;
      readonly block: number;
      /** One part, or row parts of a large 8-bit matrix (CHUNK_WEIGHTS). */
      readonly parts: readonly MatrixPart[];
    };

/** 8-bit MatMulNBits dequantizes its whole B to float32 on each call (onnxruntime 1.30's CPU kernel): a large
 * matrix (the LM head: 151,936 × 896 is 545 MB as float32) is split into row parts of at most this many
 * weights, each a view of the same bytes, so the transient buffer stays small. */
const CHUNK_WEIGHTS = 8 * 2 ** 20;

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

/** Adds `shift` to every code (an integer zero point moved onto the default one); they must stay in range. */
function shiftCodes(codes: Uint8Array, shift: number, bits: number, name: string): void {
  if (shift === 0) return;
  const max = (1 << bits) - 1;
  for (let i = 0; i < codes.length; i++) {
    const v = codes[i] + shift;
    if (v < 0 || v > max)
      throw new Error(`${name}: code ${codes[i]} does not fit ${bits} bits after a shift of ${shift}`);
    codes[i] = v;
  }
}

/** The row parts of an n-bit matrix: one, or views of CHUNK_WEIGHTS weights for a large 8-bit one. */
function rowParts(b: ModelBuilder, whole: MatrixPart, K: number, bits: number, block: number): MatrixPart[] {
  if (bits !== 8 || K * whole.N <= CHUNK_WEIGHTS || !b.placement(whole.packed) || !b.placement(whole.scales))
    return [whole];
  if (whole.offsets && !b.placement(whole.offsets)) return [whole];
  const rowsPer = Math.max(1, Math.floor(CHUNK_WEIGHTS / K));
  const blocks = K / block;
  const parts: MatrixPart[] = [];
  for (let start = 0; start < whole.N; start += rowsPer) {
    const rows = Math.min(rowsPer, whole.N - start);
    const view = (t: string, type: number, dims: number[], bytesPerRow: number): string =>
      b.view(t, type, dims, start * bytesPerRow, rows * bytesPerRow);
    parts.push({
      start,
      N: rows,
      packed: view(whole.packed, ElemType.UINT8, [rows, blocks, block], K),
      scales: view(whole.scales, ElemType.FLOAT, [rows * blocks], 4 * blocks),
      zeros: null,
      offsets: whole.offsets ? view(whole.offsets, ElemType.FLOAT, [rows, blocks], 4 * blocks) : null,
    });
  }
  // The parts replace the whole, whose initializers no node reads (the built graph is pruned to its outputs).
  return parts;
}

export function prepareMatrix(b: ModelBuilder, source: MatrixSource): PreparedMatrix {
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
  let zeros: string | null = null;
  let offsets: string | null = null;
  if (type.zero === null && bits === 4) {
    zeros = b.floats(`${source.name}.zeros`, [N * blocks], floatZeroPoints(c));
  } else {
    shiftCodes(c.codes, (bits === 4 ? 8 : 128) - (type.zero ?? 0), bits, source.name);
    if (c.offsets) offsets = b.floats(`${source.name}.offsets`, [N, blocks], c.offsets);
  }
  let packedBytes: Uint8Array = c.codes;
  if (bits === 4) {
    packedBytes = new Uint8Array(c.codes.length / 2);
    for (let i = 0; i < c.codes.length; i += 2) packedBytes[i >> 1] = c.codes[i] | (c.codes[i + 1] << 4);
  }
  const packed = b.tensor(source.name, ElemType.UINT8, [N, blocks, (block * bits) / 8], packedBytes);
  const scales = b.floats(`${source.name}.scales`, [N * blocks], c.scales);
  const parts = rowParts(b, { start: 0, N, packed, scales, zeros, offsets }, K, bits, block);
  return { kind: 'nbits', K, N, bits, block, parts };
}

/** x [rows, K] → [rows, N]. */
export function applyMatrix(b: ModelBuilder, x: string, m: PreparedMatrix): string {
  if (m.kind === 'float') return b.node('Gemm', [x, m.table], { transB: 1 });
  const blocks = m.K / m.block;
  let sums: string | null = null;
  const outs = m.parts.map((p) => {
    const y = b.node(
      'MatMulNBits',
      [x, p.packed, p.scales, ...(p.zeros ? [p.zeros] : [])],
      { K: m.K, N: p.N, bits: m.bits, block_size: m.block, accuracy_level: MATMUL_ACCURACY_LEVEL },
      'com.microsoft',
    );
    if (!p.offsets) return y;
    sums ??= b.node('ReduceSum', [b.node('Reshape', [x, b.ints([-1, blocks, m.block])]), b.ints([-1])], {
      keepdims: 0,
    });
    return b.node('Sub', [y, b.node('Gemm', [sums, p.offsets], { transB: 1 })]);
  });
  return outs.length === 1 ? outs[0] : b.node('Concat', outs, { axis: -1 });
}

/** Rows `ids` ([rows] int64) of the matrix, as float32 [rows, K]: the embedding lookup. With row parts, each
 * part gathers its rows (ids outside it clamped) and a mask keeps the part that holds each id. */
export function gatherRows(b: ModelBuilder, ids: string, m: PreparedMatrix): string {
  if (m.kind === 'float') return b.node('Gather', [m.table, ids], { axis: 0 });
  const blocks = m.K / m.block;
  const blockIndex = b.ints(Array.from({ length: blocks }, (_, i) => i));
  let codes = '';
  let scales = '';
  let zeros: string | null = null;
  let offsets: string | null = null;
  for (const [i, p] of m.parts.entries()) {
    const local =
      m.parts.length === 1
        ? ids
        : b.node('Min', [b.node('Max', [b.node('Sub', [ids, b.ints([p.start])]), b.ints([0])]), b.ints([p.N - 1])]);
    // Per-block terms stored flat [N·blocks]: element local·blocks + j.
    const flat = b.node('Add', [
      b.node('Mul', [b.node('Unsqueeze', [local, b.ints([-1])]), b.ints([blocks])]),
      blockIndex,
    ]);
    const partCodes = b.node('Gather', [p.packed, local], { axis: 0 }); // [rows, blocks, bytes]
    const partScales = b.node('Gather', [p.scales, flat], { axis: 0 }); // [rows, blocks]
    const partZeros = p.zeros ? b.node('Gather', [p.zeros, flat], { axis: 0 }) : null;
    const partOffsets = p.offsets ? b.node('Gather', [p.offsets, local], { axis: 0 }) : null;
    if (i === 0) {
      [codes, scales, zeros, offsets] = [partCodes, partScales, partZeros, partOffsets];
      continue;
    }
    const inside = b.node('And', [
      b.node('GreaterOrEqual', [ids, b.ints([p.start])]),
      b.node('Less', [ids, b.ints([p.start + p.N])]),
    ]);
    const perRow = b.node('Unsqueeze', [inside, b.ints([-1])]); // [rows, 1]
    codes = b.node('Where', [b.node('Unsqueeze', [perRow, b.ints([-1])]), partCodes, codes]);
    scales = b.node('Where', [perRow, partScales, scales]);
    if (zeros && partZeros) zeros = b.node('Where', [perRow, partZeros, zeros]);
    if (offsets && partOffsets) offsets = b.node('Where', [perRow, partOffsets, offsets]);
  }
  const raw = b.node('Cast', [codes], { to: ElemType.FLOAT });
  let values = raw; // [rows, blocks, block]
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
    values = b.node('Reshape', [pairs, b.ints([-1, blocks, m.block])]);
  }
  const perBlock = (t: string): string => b.node('Unsqueeze', [t, b.ints([-1])]);
  const zero = zeros ? perBlock(zeros) : b.float(m.bits === 4 ? 8 : 128);
  let w = b.node('Mul', [b.node('Sub', [values, zero]), perBlock(scales)]);
  if (offsets) w = b.node('Sub', [w, perBlock(offsets)]);
  return b.node('Reshape', [w, b.ints([-1, m.K])]);
}
