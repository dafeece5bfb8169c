// Two versions of a prompt, section by section: the sections are aligned by a diff of their texts (longest
// common subsequence of identical sections, then similar ones in each gap paired as changed), and each
// aligned pair says added, removed, changed or same, with the tokens and the attention it receives in
// each version, and the answer attribution when both versions were attributed. Pure.

import type { DiffStatus, SectionDiffEntry } from '../../shared/sectionDiffEntry';

export type { DiffStatus, SectionDiffEntry } from '../../shared/sectionDiffEntry';

export interface DiffInputSection {
  readonly index: number;
  readonly label: string;
  readonly text: string;
  readonly tokens: number;
  readonly attentionShare: number;
  /** With an answer: log-prob without the section minus with it. */
  readonly logProbDelta?: number;
}

/** Similarity (Jaccard of word sets) at which two unmatched sections count as one section changed. */
export const CHANGED_SIMILARITY = 0.3;

const normalize = (text: string): string => text.replace(/\s+/g, ' ').trim();

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? []);
}

export function similarity(a: string, b: string): number {
  const x = words(a);
  const y = words(b);
  if (x.size === 0 && y.size === 0) return normalize(a) === normalize(b) ? 1 : 0;
  let common = 0;
  for (const w of x) if (y.has(w)) common++;
  return common / (x.size + y.size - common);
}

/** Index pairs of the longest common subsequence of equal (whitespace-normalized) texts. */
function lcsPairs(a: readonly string[], b: readonly string[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  const table = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      table[i * (m + 1) + j] =
        a[i] === b[j]
          ? table[(i + 1) * (m + 1) + j + 1] + 1
          : Math.max(table[(i + 1) * (m + 1) + j], table[i * (m + 1) + j + 1]);
    }
  }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1]) i++;
    else j++;
  }
  return pairs;
}

function entry(status: DiffStatus, o: DiffInputSection | null, n: DiffInputSection | null): SectionDiffEntry {
  return {
    status,
    oldIndex: o ? o.index : null,
    newIndex: n ? n.index : null,
    label: (n ?? o)?.label ?? '',
    oldTokens: o?.tokens ?? 0,
    newTokens: n?.tokens ?? 0,
    oldAttentionShare: o?.attentionShare ?? 0,
    newAttentionShare: n?.attentionShare ?? 0,
    ...(o?.logProbDelta !== undefined && n?.logProbDelta !== undefined
      ? { oldLogProbDelta: o.logProbDelta, newLogProbDelta: n.logProbDelta }
      : {}),
  };
}

/** Pairs the unmatched sections of one gap in order by similarity; the rest are removed or added. */
function alignGap(olds: readonly DiffInputSection[], news: readonly DiffInputSection[], out: SectionDiffEntry[]): void {
  let j = 0;
  for (const o of olds) {
    let best = -1;
    let score = CHANGED_SIMILARITY;
    for (let k = j; k < news.length; k++) {
      const s = similarity(o.text, news[k].text);
      if (s >= score) {
        score = s;
        best = k;
      }
    }
    if (best < 0) {
      out.push(entry('removed', o, null));
      continue;
    }
    for (; j < best; j++) out.push(entry('added', null, news[j]));
    out.push(entry('changed', o, news[best]));
    j = best + 1;
  }
  for (; j < news.length; j++) out.push(entry('added', null, news[j]));
}

/** The aligned sections, in document order (removed ones where they stood). */
export function diffSections(olds: readonly DiffInputSection[], news: readonly DiffInputSection[]): SectionDiffEntry[] {
  const pairs = lcsPairs(
    olds.map((s) => normalize(s.text)),
    news.map((s) => normalize(s.text)),
  );
  const out: SectionDiffEntry[] = [];
  let i = 0;
  let j = 0;
  for (const [pi, pj] of [...pairs, [olds.length, news.length] as [number, number]]) {
    alignGap(olds.slice(i, pi), news.slice(j, pj), out);
    if (pi < olds.length && pj < news.length) out.push(entry('same', olds[pi], news[pj]));
    i = pi + 1;
    j = pj + 1;
  }
  return out;
}

export interface AttentionShape {
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
}

/** Attention FLOPs of a prefill of n tokens: 2 · head size · heads · layers · n² (the cost model's formula). */
export function attentionFlops(shape: AttentionShape, n: number): number {
  return 2 * shape.headDim * shape.heads * shape.layers * n * n;
}
