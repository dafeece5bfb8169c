// IEEE half-precision bits → float32, for all 65,536 patterns at once: decoding fp16 tensors (kept Q, an fp16
// export's outputs, GGUF scales) is then one table lookup per value.

let table: Float32Array | null = null;

export function halfToFloatTable(): Float32Array {
  if (table) return table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    const sign = h & 0x8000 ? -1 : 1;
    t[h] =
      exponent === 0
        ? sign * 2 ** -14 * (mantissa / 1024)
        : exponent === 31
          ? mantissa
            ? NaN
            : sign * Infinity
          : sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
  }
  table = t;
  return t;
}
