// The sparse linear surrogate of ContextCite (Cohen-Wang et al. 2024): random ablation masks (each source
// kept with probability ½), the answer's log-probability for each, and a Lasso fit of that score on the
// masks. A weight is then the score a source adds when present, so the effect of leaving it out is −weight.
// Coordinate descent on centred data; the penalty is a fixed fraction of the smallest one that zeroes
// every weight, so it scales with the data.
import { seededRandom } from '../../shared/seededRandom';

export interface SparseFit {
  readonly weights: Float64Array;
  readonly intercept: number;
}

/** Fraction of λ_max used as the L1 penalty. */
export const LASSO_PENALTY_FRACTION = 0.01;

/**
 * Lasso of `y` (m samples) on binary features `x` (m × d, row-major, 0/1): minimises
 * (1/2m)·‖y − b − Xw‖² + λ‖w‖₁ with λ = fraction · max_j |x_jᵀ(y − ȳ)|/m.
 */
export function fitSparseLinear(
  x: Uint8Array,
  y: Float64Array,
  d: number,
  fraction = LASSO_PENALTY_FRACTION,
  iterations = 500,
): SparseFit {
  const m = y.length;
  const means = new Float64Array(d);
  for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) means[j] += x[i * d + j] / m;
  let yMean = 0;
  for (let i = 0; i < m; i++) yMean += y[i] / m;
  // Centred columns, column-major for the coordinate updates.
  const xc = new Float64Array(m * d);
  const norms = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < m; i++) {
      const v = x[i * d + j] - means[j];
      xc[j * m + i] = v;
      norms[j] += (v * v) / m;
    }
  }
  const residual = Float64Array.from(y, (v) => v - yMean);
  let lambdaMax = 0;
  for (let j = 0; j < d; j++) {
    let dot = 0;
    for (let i = 0; i < m; i++) dot += xc[j * m + i] * residual[i];
    lambdaMax = Math.max(lambdaMax, Math.abs(dot) / m);
  }
  const lambda = fraction * lambdaMax;
  const w = new Float64Array(d);
  for (let it = 0; it < iterations; it++) {
    let change = 0;
    for (let j = 0; j < d; j++) {
      if (norms[j] === 0) continue;
      let rho = 0;
      for (let i = 0; i < m; i++) rho += xc[j * m + i] * residual[i];
      rho = rho / m + norms[j] * w[j];
      const next = (Math.sign(rho) * Math.max(0, Math.abs(rho) - lambda)) / norms[j];
      const delta = next - w[j];
      if (delta !== 0) {
        for (let i = 0; i < m; i++) residual[i] -= delta * xc[j * m + i];
        w[j] = next;
        change = Math.max(change, Math.abs(delta));
      }
    }
    if (change < 1e-9) break;
  }
  let intercept = yMean;
  for (let j = 0; j < d; j++) intercept -= w[j] * means[j];
  return { weights: w, intercept };
}

/** Random keep-masks (m × d, 1 = kept), each source kept with probability ½, from a seeded generator. */
export function randomMasks(m: number, d: number, random: () => number): Uint8Array {
  const masks = new Uint8Array(m * d);
  for (let i = 0; i < m * d; i++) masks[i] = random() < 0.5 ? 1 : 0;
  return masks;
}

/** A seeded generator, so an attribution run is reproducible. */
export const seededGenerator = seededRandom;

/** Ablations for d sources: enough for a sparse fit, bounded so long prompts stay affordable. */
export function ablationCount(d: number): number {
  return Math.max(32, Math.min(256, 4 * d));
}
