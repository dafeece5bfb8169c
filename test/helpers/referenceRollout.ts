// Attention rollout (Abnar & Zuidema 2020) recomputed the plain way, in float64, for tests: per layer the head
// mean M_l of [heads, n, n] probabilities, Â_l = ½M_l + ½I, R_0 = Â_0, R_l = Â_l·R_{l−1} as full matrix
// products. Independent of the engine's row recursion (analysis/answerRollout.ts) and of its onnxruntime
// products (runtime/rolloutProduct.ts).

/** Per layer, R_l [n, n] row-major, from per-layer probabilities [heads, n, n]. */
export function referenceRollout(probabilities: readonly ArrayLike<number>[], n: number): Float64Array[] {
  const out: Float64Array[] = [];
  let below: Float64Array | null = null;
  for (const p of probabilities) {
    const heads = p.length / (n * n);
    const a = new Float64Array(n * n);
    for (let h = 0; h < heads; h++) for (let i = 0; i < n * n; i++) a[i] += p[h * n * n + i] / heads;
    for (let i = 0; i < n * n; i++) a[i] *= 0.5;
    for (let i = 0; i < n; i++) a[i * n + i] += 0.5;
    if (below === null) {
      out.push(a);
      below = a;
      continue;
    }
    const r = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += a[i * n + k] * below[k * n + j];
        r[i * n + j] = acc;
      }
    out.push(r);
    below = r;
  }
  return out;
}
