// The figures of the sections card: the prompt's attribution units (split once per inspection, by the one
// section model the editor's CodeLens use too) with the tokens in each (counted over the same widened spans as
// the CodeLens, so the counts agree for the same tokenizer), their nested examples and turns, short names for
// the matrix, and, for the current matrix, the attention each unit receives, the section × section matrix and
// the position profile of the final tokens. Pure arithmetic; webview/ui/sectionView.ts draws it.
import type { TokenInfo } from '../../src/shared/protocol';
import {
  attributionUnits,
  coverSections,
  splitPromptSections,
  type PromptSection,
} from '../../src/shared/promptSections';
import {
  positionProfile,
  sectionMatrix,
  tokensInSpan,
  tokenUnits,
  type PositionProfile,
  type SpanLike,
} from '../../src/engine/analysis/sectionStats';
import type { LongMatrix } from './longMatrix';

/** Final queries the position profile averages over. */
const PROFILE_QUERIES = 16;
/** Above this many sections the matrix is left out (it would not be readable). */
const MATRIX_LIMIT = 24;
/** The profile needs more tokens than this. */
const PROFILE_MIN_TOKENS = 10;

/** An example or a turn inside a unit, shown under it. */
export interface NestedSection {
  readonly section: PromptSection;
  /** 1 for a child of the unit, 2 for a grandchild. */
  readonly level: number;
  readonly count: number;
  readonly first: number;
}

export interface SectionLayout {
  readonly units: readonly PromptSection[];
  /** Each unit widened to the next one's start: the spans its tokens are counted over (as the CodeLens do). */
  readonly cover: readonly SpanLike[];
  /** Each unit's examples and turns, in order. */
  readonly nested: readonly (readonly NestedSection[])[];
  /** Each unit's name, shortened for the matrix's rows and columns. */
  readonly short: readonly string[];
  /** Each token's unit, or -1. */
  readonly owner: Int32Array;
  /** Tokens per unit. */
  readonly count: Int32Array;
  /** Each unit's first token, or -1. */
  readonly first: Int32Array;
}

const NESTED_KINDS = new Set(['example', 'turn']);
const SHORT_NAME = 14;

/** A section's name for a narrow column: the label's first words, at most SHORT_NAME characters. */
export function shortName(label: string): string {
  const flat = label
    .replace(/^example (\d+): .*/, 'ex. $1')
    .replace(/…$/, '')
    .trim();
  if (flat.length <= SHORT_NAME) return flat;
  const cut = flat.slice(0, SHORT_NAME - 1);
  // Cut at the last word gap, unless the cut already falls on one.
  const space = flat[SHORT_NAME - 1] === ' ' ? cut.length : cut.lastIndexOf(' ');
  return `${(space > 5 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

export function sectionLayout(text: string, tokens: readonly TokenInfo[]): SectionLayout {
  const sections = splitPromptSections(text);
  const units = attributionUnits(sections);
  const cover = coverSections(text, sections);
  const owner = tokenUnits(tokens, cover);
  const nested = units.map((unit) => {
    const rows: NestedSection[] = [];
    for (const s of sections) {
      if (s.start < unit.start || s.end > unit.end || s.index === unit.index || !NESTED_KINDS.has(s.kind)) continue;
      const level = s.depth - unit.depth;
      if (level > 2) continue;
      const inside = tokensInSpan(tokens, s);
      rows.push({ section: s, level, count: inside.length, first: inside.length ? inside[0] : -1 });
    }
    return rows;
  });
  const count = new Int32Array(units.length);
  const first = new Int32Array(units.length).fill(-1);
  for (let k = 0; k < tokens.length; k++) {
    const u = owner[k];
    if (u < 0) continue;
    count[u]++;
    if (first[u] < 0) first[u] = k;
  }
  return { units, cover, nested, short: units.map((u) => shortName(u.label)), owner, count, first };
}

export interface SectionFigures {
  /** Per unit: the share of all attention its tokens receive (each query's row counts 1/n). */
  readonly received: Float64Array;
  /** The largest received share (at least 1e-9), for the bars. */
  readonly receivedMax: number;
  /** The unit × unit matrix (row a: where unit a's queries look), when there are 2 to MATRIX_LIMIT units. */
  readonly matrix: Float64Array | null;
  readonly matrixMax: number;
  /** Where the final tokens look, by position decile, when there are more than PROFILE_MIN_TOKENS tokens. */
  readonly profile: PositionProfile | null;
  readonly profileMax: number;
}

/** The figures for an n × n attention matrix of the current layer / head / mode selection. */
export function sectionFigures(layout: SectionLayout, matrix: Float32Array, n: number): SectionFigures {
  const { owner } = layout;
  const d = layout.units.length;
  const received = new Float64Array(d);
  for (let q = 0; q < n; q++)
    for (let k = 0; k <= q; k++) if (owner[k] >= 0) received[owner[k]] += matrix[q * n + k] / n;
  const unitMatrix = d >= 2 && d <= MATRIX_LIMIT ? sectionMatrix(matrix, n, owner, d) : null;
  const profile = n > PROFILE_MIN_TOKENS ? positionProfile(matrix, n, PROFILE_QUERIES) : null;
  return {
    received,
    receivedMax: Math.max(1e-9, ...received),
    matrix: unitMatrix,
    matrixMax: unitMatrix ? Math.max(1e-9, ...unitMatrix) : 0,
    profile,
    profileMax: profile ? Math.max(1e-9, ...profile.deciles) : 0,
  };
}

/**
 * The same figures for a long inspection, from its LongMatrix (rows where the payload has them, else the
 * estimate from per-token figures) without an n × n matrix: one pass over the queries by unit, and the final
 * queries' rows for the profile.
 */
export function longSectionFigures(layout: SectionLayout, long: LongMatrix): SectionFigures {
  const { owner } = layout;
  const n = long.n;
  const d = layout.units.length;
  const received = new Float64Array(d);
  const withMatrix = d >= 2 && d <= MATRIX_LIMIT;
  const sums = new Float64Array(withMatrix ? d * d : 0);
  const queries = new Float64Array(d);
  long.forEachRowByUnit(owner, d, (q, bySection) => {
    for (let u = 0; u < d; u++) received[u] += bySection[u] / n;
    const a = owner[q];
    if (!withMatrix || a < 0) return;
    queries[a]++;
    for (let b = 0; b < d; b++) sums[a * d + b] += bySection[b];
  });
  for (let a = 0; a < d && withMatrix; a++)
    if (queries[a] > 0) for (let b = 0; b < d; b++) sums[a * d + b] /= queries[a];
  const profile = n > PROFILE_MIN_TOKENS ? finalRowsProfile(long) : null;
  return {
    received,
    receivedMax: Math.max(1e-9, ...received),
    matrix: withMatrix ? sums : null,
    matrixMax: withMatrix ? Math.max(1e-9, ...sums) : 0,
    profile,
    profileMax: profile ? Math.max(1e-9, ...profile.deciles) : 0,
  };
}

/** positionProfile over the final PROFILE_QUERIES rows of a long inspection, read one row at a time. */
function finalRowsProfile(long: LongMatrix): PositionProfile {
  const n = long.n;
  const from = Math.max(0, n - PROFILE_QUERIES);
  const row = new Float32Array(n);
  const deciles = new Array<number>(10).fill(0);
  let sink = 0;
  for (let q = from; q < n; q++) {
    long.rowInto(q, row);
    sink += row[0];
    row.subarray(1, q + 1).forEach((w, i) => (deciles[Math.min(9, Math.floor((10 * (i + 1)) / n))] += w));
  }
  const total = deciles.reduce((a, b) => a + b, 0);
  return { deciles: deciles.map((v) => (total > 0 ? v / total : 0)), sink: sink / (n - from), queries: [from, n - 1] };
}
