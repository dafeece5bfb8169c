// "Attention × value norm" (Kobayashi et al., EMNLP 2020) for one query's rows: each head's weight of key j
// becomes α_j · ‖v_j W_O^h‖, renormalized to sum to 1. The answer strip's tokens carry these rows beside
// their attention; the norms come from the graph (graph/valueNormGraph.ts). Pure.

/**
 * One query's weighted rows [heads × keys] from its attention rows [heads × keys] and the norms of head h's
 * key j at `norms[h * stride + j]` (stride ≥ keys: the norm output's key count).
 */
export function valueNormWeighted(rows: Float32Array, keys: number, norms: Float32Array, stride: number): Float32Array {
  const heads = rows.length / keys;
  const out = new Float32Array(rows.length);
  for (let h = 0; h < heads; h++) {
    let total = 0;
    for (let k = 0; k < keys; k++) total += out[h * keys + k] = rows[h * keys + k] * norms[h * stride + k];
    if (total > 0) for (let k = 0; k < keys; k++) out[h * keys + k] /= total;
  }
  return out;
}

/**
 * The value norms of every key so far, per layer and head, as a decode loop learns them: a whole pass gives
 * all its keys' norms, a step with a KV cache only those of the keys it feeds (graph/valueNormGraph.ts's
 * newKeysOnly), which are appended.
 */
export class KeyNorms {
  /** Per layer, per head, the norm of each key in order. */
  private readonly norms: number[][][];

  constructor(
    layers: number,
    private readonly heads: number,
  ) {
    this.norms = Array.from({ length: layers }, () => Array.from({ length: heads }, () => []));
  }

  /** A run's norm outputs per layer ([heads × fed], the last `fed` keys); `whole`: they are all the keys. */
  add(outputs: readonly Float32Array[], fed: number, whole: boolean): void {
    outputs.forEach((data, l) => {
      for (let h = 0; h < this.heads; h++) {
        const keys = this.norms[l][h];
        if (whole) keys.length = 0;
        for (let k = 0; k < fed; k++) keys.push(data[h * fed + k]);
      }
    });
  }

  /** One query's rows per layer [heads × keys], weighted by the norms of its keys and renormalized. */
  weigh(rows: readonly Float32Array[], keys: number): Float32Array[] {
    return rows.map((row, l) => {
      const norms = new Float32Array(this.heads * keys);
      for (let h = 0; h < this.heads; h++) {
        const known = this.norms[l][h];
        if (known.length < keys) throw new Error(`value norms of ${known.length} keys, not ${keys}`);
        for (let k = 0; k < keys; k++) norms[h * keys + k] = known[k];
      }
      return valueNormWeighted(row, keys, norms, keys);
    });
  }
}
