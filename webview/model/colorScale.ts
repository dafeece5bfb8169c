// Theme-aware colour scales: token shading is a theme colour (a CSS variable) with alpha by weight;
// heatmaps blend the editor background into that colour through a 256-entry lookup table.

export interface Rgb {
  readonly r: number;
  readonly g: number;
  readonly b: number;
}

/** Parses #rgb, #rgba, #rrggbb, #rrggbbaa, rgb() and rgba(); alpha is ignored. Null when unreadable. */
export function parseCssColor(text: string): Rgb | null {
  const s = text.trim().toLowerCase();
  const hex = /^#([0-9a-f]{3,8})$/.exec(s);
  if (hex) {
    const h = hex[1];
    if (h.length === 3 || h.length === 4) {
      return { r: parseInt(h[0] + h[0], 16), g: parseInt(h[1] + h[1], 16), b: parseInt(h[2] + h[2], 16) };
    }
    if (h.length === 6 || h.length === 8) {
      return { r: parseInt(h.slice(0, 2), 16), g: parseInt(h.slice(2, 4), 16), b: parseInt(h.slice(4, 6), 16) };
    }
    return null;
  }
  const fn = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/.exec(s);
  if (fn) {
    const [r, g, b] = [fn[1], fn[2], fn[3]].map((v) => Math.max(0, Math.min(255, Math.round(Number(v)))));
    return { r, g, b };
  }
  return null;
}

/** Relative luminance (sRGB, 0..1). */
export function luminance(c: Rgb): number {
  const lin = (v: number): number => {
    const x = v / 255;
    return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

export function isDark(c: Rgb): boolean {
  return luminance(c) < 0.3;
}

export const SHADE_BUCKETS = 32;
const MIN_ALPHA = 0.1;
const MAX_ALPHA = 0.8;

/**
 * Shading bucket for a weight relative to the strongest weight on screen: 0 = unshaded, else 1..SHADE_BUCKETS.
 * A square-root curve keeps small but real weights visible next to a dominant one.
 */
export function shadeBucket(weight: number, max: number): number {
  if (!(weight > 0) || !(max > 0)) return 0;
  const t = Math.sqrt(Math.min(1, weight / max));
  return Math.max(1, Math.ceil(t * SHADE_BUCKETS));
}

export function bucketAlpha(bucket: number): number {
  if (bucket <= 0) return 0;
  return MIN_ALPHA + ((MAX_ALPHA - MIN_ALPHA) * (bucket - 1)) / (SHADE_BUCKETS - 1);
}

/** CSS background strings per bucket, precomputed so a hover only assigns strings. */
export function shadePalette(color: Rgb): string[] {
  const out = [''];
  for (let b = 1; b <= SHADE_BUCKETS; b++) {
    out.push(`rgba(${color.r}, ${color.g}, ${color.b}, ${bucketAlpha(b).toFixed(3)})`);
  }
  return out;
}

/**
 * RGBA lookup table (256 × 4) from `background` (weight 0) to `foreground` (weight 1) with a gamma curve,
 * so heatmaps show faint structure without saturating. Index with Math.round(weight / max * 255).
 */
export function heatmapLut(background: Rgb, foreground: Rgb, gamma = 0.5): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) ** gamma;
    lut[i * 4] = background.r + (foreground.r - background.r) * t;
    lut[i * 4 + 1] = background.g + (foreground.g - background.g) * t;
    lut[i * 4 + 2] = background.b + (foreground.b - background.b) * t;
    lut[i * 4 + 3] = 255;
  }
  return lut;
}

/**
 * The weight a heatmap maps to full colour: a high quantile of the non-zero weights rather than the maximum,
 * so that at 2,048 tokens (weights spread thin, a few near 1 on the diagonal or the sink) the structure stays
 * visible. Samples at most ~200k cells; never below `floor` × max.
 */
export function heatmapCeiling(values: Float32Array, quantile = 0.995, floor = 0.05): number {
  const step = Math.max(1, Math.floor(values.length / 200_000));
  const sample = new Float32Array(Math.ceil(values.length / step));
  let count = 0;
  let max = 0;
  for (let i = 0; i < values.length; i += step) {
    const v = values[i];
    if (v > 0) {
      sample[count++] = v;
      if (v > max) max = v;
    }
  }
  if (count === 0) {
    // Sparse matrices can miss every sampled cell: fall back to the true maximum.
    for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
    return max;
  }
  const sorted = sample.subarray(0, count).sort();
  const q = sorted[Math.min(count - 1, Math.floor(quantile * count))];
  return Math.max(q, floor * max);
}
