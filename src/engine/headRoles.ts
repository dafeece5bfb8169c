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
// - broad:         mean normalized entropy H(A[q]) / ln(q + 1) over up to 32 evenly spaced queries q ≥ 4;
//                  1 for a uniform row.
// The role is the score with the largest ratio to its threshold (ROLE_THRESHOLDS): the score that stands
// out most against what counts as strong for that kind of head.
import type { HeadRole, HeadRoleScores, HeadSummary } from '../shared/protocol';

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

const ENTROPY_SAMPLES = 32;

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

/** Scores for head `head` of a layer's [heads, n, n] data (induction comes from the probe). */
export function headScores(data: Float32Array, head: number, n: number, induction: number): HeadRoleScores {
  const base = head * n * n;
  let previous = 0;
  let sink = 0;
  let local = 0;
  for (let q = 1; q < n; q++) {
    const row = base + q * n;
    sink += data[row];
    if (q < 2) continue;
    previous += data[row + q - 1];
    local += data[row + q];
    for (let d = 2; d <= 4 && q - d >= 1; d++) local += data[row + q - d];
  }
  let broad = 0;
  let samples = 0;
  if (n > 4) {
    const count = Math.min(ENTROPY_SAMPLES, n - 4);
    for (let s = 0; s < count; s++) {
      const q = 4 + Math.floor(((n - 5) * s) / Math.max(1, count - 1));
      const row = base + q * n;
      let entropy = 0;
      for (let k = 0; k <= q; k++) {
        const p = data[row + k];
        if (p > 1e-12) entropy -= p * Math.log(p);
      }
      broad += entropy / Math.log(q + 1);
      samples++;
    }
  }
  const clamp = (v: number): number => Math.max(0, Math.min(1, v));
  return {
    previousToken: n > 2 ? clamp(previous / (n - 2)) : 0,
    sink: n > 1 ? clamp(sink / (n - 1)) : 0,
    induction: clamp(induction),
    local: n > 2 ? clamp(local / (n - 2)) : 0,
    broad: samples ? clamp(broad / samples) : 0,
  };
}

export function summarizeHeads(layer: number, data: Float32Array, heads: number, n: number, induction: Float32Array | null): HeadSummary[] {
  const out: HeadSummary[] = [];
  for (let h = 0; h < heads; h++) {
    const scores = headScores(data, h, n, induction?.[h] ?? 0);
    out.push({ layer, head: h, role: chooseRole(scores), scores });
  }
  return out;
}

/** Builds the induction probe: BOS (when the model has one) + R + R with R seeded-random plain token ids. */
export function inductionProbe(bos: number | null, plainIds: (random: () => number) => number, length: number): { ids: number[]; offset: number; length: number } {
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
export function inductionScores(data: Float32Array, heads: number, n: number, offset: number, length: number): Float32Array {
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
