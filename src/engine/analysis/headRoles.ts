// A role per attention head, from five scores in [0, 1]. A is one head's [n, n] causal attention
// (rows = queries); token 0 is BOS, the attention sink.
//
// - previousToken: mean over queries q ≥ 2 of A[q][q−1] (q = 1 is skipped: its previous token is the sink).
// - sink:          mean over queries q ≥ 1 of A[q][0].
// - induction:     measured once per model on BOS + R + R, R a random token sequence of length L: mean over
//                  queries q in the second copy of A[q][q−L+1], the token after the query's earlier
//                  occurrence (what an induction head attends to). Not measured on the user's text.
// - local:         mean over queries q ≥ 2 of the mass on keys at distance 0, 2, 3 or 4 (distance 1 is the
//                  previous-token score's, key 0 the sink's): a local/positional window.
// - broad:         mean normalized entropy H(A[q]) / ln(q + 1) over up to 32 evenly spaced queries q ≥ 4
//                  (headScoreGraph.ts entropySampleRows);
//                  1 for a uniform row.
// The role is the score with the largest ratio to its threshold (ROLE_THRESHOLDS): the score that stands
// out most against what counts as strong for that kind of head.
import type { HeadRole, HeadRoleScores, HeadSummary } from '../../shared/protocol';
import { BAND_FROM, BAND_WIDTH, entropySampleRows } from '../graph/headScoreGraph';

export const ROLE_THRESHOLDS: Readonly<Record<keyof HeadRoleScores, number>> = {
  previousToken: 0.4,
  sink: 0.6,
  induction: 0.2,
  local: 0.5,
  broad: 0.6,
};

const ROLE_OF: Readonly<Record<keyof HeadRoleScores, HeadRole>> = {
  previousToken: 'previous-token',
  sink: 'sink',
  induction: 'induction',
  local: 'local',
  broad: 'broad',
};

export function chooseRole(scores: HeadRoleScores): HeadRole {
  let best: keyof HeadRoleScores = 'broad';
  let bestRatio = -1;
  for (const key of Object.keys(ROLE_THRESHOLDS) as (keyof HeadRoleScores)[]) {
    const ratio = scores[key] / ROLE_THRESHOLDS[key];
    if (ratio > bestRatio) {
      bestRatio = ratio;
      best = key;
    }
  }
  return ROLE_OF[best];
}

/** One layer's score inputs (headScoreGraph.ts): band sums [heads, 6] (per head, Σ over queries q ≥ BAND_FROM of
 * the weights on keys 0, q, q−1, …, q−4) and sampled rows' entropies [heads, S]. */
export interface HeadScoreInputs {
  readonly heads: number;
  readonly n: number;
  readonly bandSums: Float32Array;
  readonly entropy: Float32Array;
}

/** The same inputs taken from full [heads, n, n] probabilities (tests, and models read in full). */
export function scoreInputsFromFull(data: Float32Array, heads: number, n: number): HeadScoreInputs {
  const bandSums = new Float32Array(heads * BAND_WIDTH);
  const rows = entropySampleRows(n);
  const entropy = new Float32Array(heads * rows.length);
  for (let h = 0; h < heads; h++) {
    const sums = new Float64Array(BAND_WIDTH);
    for (let q = 0; q < n; q++) {
      const row = h * n * n + q * n;
      // Keys 0, q, q−1, …, q−4, each counted from BAND_FROM (never a clamped key).
      for (let b = 0; b < BAND_WIDTH; b++) if (q >= BAND_FROM[b]) sums[b] += data[row + (b === 0 ? 0 : q - b + 1)];
    }
    bandSums.set(sums, h * BAND_WIDTH);
    rows.forEach((q, s) => {
      let sum = 0;
      for (let k = 0; k < n; k++) {
        const p = data[h * n * n + q * n + k];
        if (p > 0) sum -= p * Math.log(p);
      }
      entropy[h * rows.length + s] = sum;
    });
  }
  return { heads, n, bandSums, entropy };
}

/** Scores for one head (induction comes from the probe). */
export function headScores(inputs: HeadScoreInputs, head: number, induction: number): HeadRoleScores {
  const { n, bandSums, entropy } = inputs;
  const b = head * BAND_WIDTH; // Σ over queries of the weights on [key 0, q, q−1, q−2, q−3, q−4]
  const sink = bandSums[b];
  const previous = bandSums[b + 2];
  const local = bandSums[b + 1] + bandSums[b + 3] + bandSums[b + 4] + bandSums[b + 5];
  const rows = entropySampleRows(n);
  let broad = 0;
  rows.forEach((q, s) => (broad += entropy[head * rows.length + s] / Math.log(q + 1)));
  const clamp = (v: number): number => Math.max(0, Math.min(1, v));
  return {
    previousToken: n > 2 ? clamp(previous / (n - 2)) : 0,
    sink: n > 1 ? clamp(sink / (n - 1)) : 0,
    induction: clamp(induction),
    local: n > 2 ? clamp(local / (n - 2)) : 0,
    broad: rows.length ? clamp(broad / rows.length) : 0,
  };
}

export function summarizeHeads(layer: number, inputs: HeadScoreInputs, induction: Float32Array | null): HeadSummary[] {
  const out: HeadSummary[] = [];
  for (let h = 0; h < inputs.heads; h++) {
    const scores = headScores(inputs, h, induction?.[h] ?? 0);
    out.push({ layer, head: h, role: chooseRole(scores), scores });
  }
  return out;
}

/** Builds the induction probe: BOS (when the model has one) + R + R with R seeded-random plain token ids. */
export function inductionProbe(
  bos: number | null,
  plainIds: (random: () => number) => number,
  length: number,
): { ids: number[]; offset: number; length: number } {
  let state = 0x9e3779b9;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const repeated = Array.from({ length }, () => plainIds(random));
  const prefix = bos === null ? [] : [bos];
  return { ids: [...prefix, ...repeated, ...repeated], offset: prefix.length, length };
}

/** Per head: mean over second-copy queries of the weight on the token after the earlier occurrence. */
export function inductionScores(
  data: Float32Array,
  heads: number,
  n: number,
  offset: number,
  length: number,
): Float32Array {
  const scores = new Float32Array(heads);
  for (let h = 0; h < heads; h++) {
    let sum = 0;
    for (let i = 0; i < length; i++) {
      const q = offset + length + i;
      const target = q - length + 1;
      sum += data[h * n * n + q * n + target];
    }
    scores[h] = sum / length;
  }
  return scores;
}
