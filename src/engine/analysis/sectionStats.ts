// Per-section figures from one inspection: which tokens fall in each section, the attention each section
// receives (per token and in total), the section × section matrix (which section reads which) and the
// position profile (where the final tokens look, by position decile: the "lost in the middle" picture).
// Pure: spans and typed arrays in, numbers out; the matrix comes from whatever layer/head/mode the caller
// chose, so the panel's controls apply unchanged.
import type { SectionShareJson } from '../../shared/explainReport';

export interface SpanLike {
  readonly start: number;
  readonly end: number;
}

export interface TokenLike extends SpanLike {
  readonly text: string;
  readonly special?: boolean;
}

/**
 * The character a token is filed under: its first non-whitespace character (a byte-level " The" belongs
 * where "The" is, a ".\n\n" where the period is), or its start when it is all whitespace.
 */
export function tokenAnchor(token: TokenLike): number {
  const offset = token.text.search(/\S/);
  return token.start + (offset < 0 ? 0 : offset);
}

/** Token indices inside [start, end): non-special tokens whose anchor lies in the span. */
export function tokensInSpan(tokens: readonly TokenLike[], span: SpanLike): number[] {
  const out: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.special || t.end <= t.start) continue;
    const at = tokenAnchor(t);
    if (at >= span.start && at < span.end) out.push(i);
  }
  return out;
}

/** For non-overlapping `units`: each token's unit index, or -1 (special tokens, whitespace between units). */
export function tokenUnits(tokens: readonly TokenLike[], units: readonly SpanLike[]): Int32Array {
  const owner = new Int32Array(tokens.length).fill(-1);
  units.forEach((unit, u) => {
    for (const i of tokensInSpan(tokens, unit)) owner[i] = u;
  });
  return owner;
}

export interface SectionAttention {
  readonly tokens: number;
  /** Share of all attention received (over all queries) that lands on the section's tokens. */
  readonly attentionShare: number;
  /** attentionShare / tokens (0 for an empty section). */
  readonly perToken: number;
}

/**
 * `received` is, per key, the attention it gets averaged over queries (and heads, layers), summing to 1
 * over keys, as the inspection's LayerAttention.received gives it per layer.
 */
export function sectionAttention(
  tokens: readonly TokenLike[],
  sections: readonly SpanLike[],
  received: Float32Array | Float64Array,
): SectionAttention[] {
  return sections.map((section) => {
    const inside = tokensInSpan(tokens, section);
    let share = 0;
    for (const i of inside) share += received[i];
    return { tokens: inside.length, attentionShare: share, perToken: inside.length ? share / inside.length : 0 };
  });
}

/** Mean over layers of per-layer received arrays (each of length n). */
export function meanReceived(layers: readonly (Float32Array | Float64Array)[], n: number): Float64Array {
  const mean = new Float64Array(n);
  for (const layer of layers) for (let k = 0; k < n; k++) mean[k] += layer[k] / layers.length;
  return mean;
}

/**
 * Section × section matrix from an n × n attention matrix (rows are queries, each summing to 1):
 * cell [a][b] is the mean over the queries in unit a of the attention they put on unit b's keys.
 */
export function sectionMatrix(
  attention: Float32Array | Float64Array,
  n: number,
  owner: Int32Array,
  units: number,
): Float64Array {
  const sums = new Float64Array(units * units);
  const queries = new Float64Array(units);
  for (let q = 0; q < n; q++) {
    const a = owner[q];
    if (a < 0) continue;
    queries[a]++;
    const row = q * n;
    for (let k = 0; k <= q; k++) {
      const b = owner[k];
      if (b >= 0) sums[a * units + b] += attention[row + k];
    }
  }
  for (let a = 0; a < units; a++) if (queries[a] > 0) for (let b = 0; b < units; b++) sums[a * units + b] /= queries[a];
  return sums;
}

export interface PositionProfile {
  /** Attention mass from the final queries by key position decile (0 = start of the text), summing to 1. */
  readonly deciles: number[];
  /** Share of that attention that went to token 0 (the sink) before it was left out. */
  readonly sink: number;
  /** The query positions averaged over. */
  readonly queries: readonly [number, number];
}

/**
 * Where the final `last` queries look, by decile of key position over the n tokens. Token 0 (the
 * attention sink) is left out and the rest renormalized, since it would otherwise fill the first decile.
 */
export function positionProfile(attention: Float32Array | Float64Array, n: number, last: number): PositionProfile {
  const from = Math.max(0, n - Math.max(1, last));
  const deciles = new Array<number>(10).fill(0);
  let sink = 0;
  let total = 0;
  for (let q = from; q < n; q++) {
    const row = q * n;
    sink += attention[row];
    for (let k = 1; k <= q; k++) {
      const w = attention[row + k];
      deciles[Math.min(9, Math.floor((10 * k) / n))] += w;
      total += w;
    }
  }
  const rows = n - from;
  return {
    deciles: deciles.map((d) => (total > 0 ? d / total : 0)),
    sink: rows > 0 ? sink / rows : 0,
    queries: [from, n - 1],
  };
}

/** A section with its tokens and attention share, as `inspect` and `attribute` write it. */
export type InspectSection = SectionShareJson;

/** Every section of `text` with its tokens and its share of the attention received (mean over layers). */
export function inspectSections(
  sections: readonly {
    readonly index: number;
    readonly kind: string;
    readonly label: string;
    readonly start: number;
    readonly end: number;
  }[],
  tokens: readonly TokenLike[],
  receivedByLayer: readonly (Float32Array | Float64Array)[],
): InspectSection[] {
  const received = meanReceived(receivedByLayer, tokens.length);
  return sections.map((s) => {
    const stats = sectionAttention(tokens, [s], received)[0];
    return {
      index: s.index,
      kind: s.kind,
      label: s.label,
      start: s.start,
      end: s.end,
      tokens: stats.tokens,
      attentionShare: stats.attentionShare,
    };
  });
}
