// Attention rollout (Abnar & Zuidema 2020) for the answer's tokens, exactly: Â_l = ½M_l + ½I with M_l the
// head mean of layer l's attention over the prompt and the answer, R_0 = Â_0, R_l = Â_l·R_{l−1}. Causal rows
// make it a recursion over positions: row t of R_l is ½·Σ_j M_l[t, j]·R_{l−1}[j, ·] + ½·R_{l−1}[t, ·], so the
// rollout of a token written after the rows before it needs only its own attention rows and the kept rollout
// rows of every earlier position. The answer strip shows it when an answer token is hovered in Rollout mode,
// as the inspection's in-graph rollout (attentionStatsGraph.ts) serves the prompt's tokens. Pure; float64
// sums, float32 rows. A whole pass (the prompt) is seeded from matrices onnxruntime multiplied
// (runtime/rolloutProduct.ts); each token after it costs layers·t²/2 multiply-adds here.

/** The mean over heads of one query's rows [heads × keys]. */
export function headMean(rows: Float32Array, keys: number): Float32Array {
  const heads = rows.length / keys;
  const out = new Float32Array(keys);
  for (let k = 0; k < keys; k++) {
    let acc = 0;
    for (let h = 0; h < heads; h++) acc += rows[h * keys + k];
    out[k] = acc / heads;
  }
  return out;
}

export class RolloutRows {
  /** Per layer, row t of R_l for every position so far (length t + 1). */
  private readonly rows: Float32Array[][];

  constructor(readonly layers: number) {
    this.rows = Array.from({ length: layers }, () => []);
  }

  /** Positions whose rollout is kept. */
  get length(): number {
    return this.rows[0]?.length ?? 0;
  }

  /**
   * Appends the next position t = length, given its head-mean attention rows per layer (t + 1 keys each, the
   * last one itself), and returns its rollout row per layer (R_l[t, 0..t]).
   */
  push(means: readonly Float32Array[]): Float32Array[] {
    const t = this.length;
    if (means.length !== this.layers) throw new Error(`rollout: ${means.length} layers of rows, not ${this.layers}`);
    const out: Float32Array[] = [];
    const acc = new Float64Array(t + 1);
    let below: Float32Array | null = null;
    for (let l = 0; l < this.layers; l++) {
      const m = means[l];
      if (m.length !== t + 1) throw new Error(`rollout: a row of ${m.length} keys at position ${t}`);
      acc.fill(0);
      if (below === null) {
        // R_0 = Â_0 = ½M_0 + ½I.
        for (let k = 0; k <= t; k++) acc[k] = 0.5 * m[k];
        acc[t] += 0.5;
      } else {
        const previous = this.rows[l - 1];
        for (let j = 0; j < t; j++) {
          const w = 0.5 * m[j];
          if (w === 0) continue;
          const r = previous[j];
          for (let k = 0; k <= j; k++) acc[k] += w * r[k];
        }
        const self = 0.5 * m[t] + 0.5;
        for (let k = 0; k <= t; k++) acc[k] += self * below[k];
      }
      const row = Float32Array.from(acc);
      this.rows[l].push(row);
      out.push(row);
      below = row;
    }
    return out;
  }

  /**
   * Keeps the rollout of a whole pass as its first positions: per layer, R_l over n positions ([n, n] row-major,
   * as runtime/rolloutProduct.ts computes it). Its rows are views into those matrices, not copies.
   */
  seed(matrices: readonly Float32Array[], n: number): void {
    if (this.length !== 0) throw new Error('rollout: seeded twice');
    if (matrices.length !== this.layers) throw new Error(`rollout: ${matrices.length} layers, not ${this.layers}`);
    matrices.forEach((matrix, l) => {
      for (let j = 0; j < n; j++) this.rows[l].push(matrix.subarray(j * n, j * n + j + 1));
    });
  }

  /** Position t's kept rollout row per layer (views: copy before transferring). */
  at(t: number): Float32Array[] {
    return this.rows.map((rows) => rows[t]);
  }
}
