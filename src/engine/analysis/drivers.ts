// Tokens that drive the prompt's attention, and the strongest long-range links.
//
// - Drivers: the tokens with the highest attention received (LayerAttention.received averaged over
//   layers), special tokens and token 0 (the attention sink) excluded; top DRIVER_COUNT.
// - Long-range pairs: from the mean over heads of the last ⌈layers/2⌉ layers (where attention is most
//   semantic), the (query, key) pairs with query − key ≥ LONG_RANGE_DISTANCE and neither token special,
//   keeping only each query's strongest such key; top PAIR_COUNT by weight. From the whole [n, n] sum, or
//   (blocked statistics, long inputs) from each query's strongest few keys the graph kept (LongRangeTop).
import type { Driver, LongRangePair, TokenInfo } from '../../shared/protocol';

export const DRIVER_COUNT = 10;
export const PAIR_COUNT = 10;
export const LONG_RANGE_DISTANCE = 32;

export function topDrivers(received: readonly Float32Array[], tokens: readonly TokenInfo[]): Driver[] {
  const n = tokens.length;
  const mean = new Float32Array(n);
  for (const layer of received) for (let k = 0; k < n; k++) mean[k] += layer[k] / received.length;
  // Token 0 is the sink (BOS, or the first token when the model has no BOS): never a driver.
  const order = Array.from({ length: n }, (_, i) => i).filter((i) => i > 0 && !tokens[i].special);
  order.sort((a, b) => mean[b] - mean[a]);
  return order.slice(0, DRIVER_COUNT).map((index) => ({ index, text: tokens[index].text, received: mean[index] }));
}

/** Adds one layer's head-mean ([n, n]) into `sum`, for keys ≤ query − LONG_RANGE_DISTANCE only. */
export function accumulateLongRange(sum: Float32Array, headMean: Float32Array, n: number): void {
  for (let q = LONG_RANGE_DISTANCE; q < n; q++) {
    const row = q * n;
    const end = q - LONG_RANGE_DISTANCE;
    for (let k = 1; k <= end; k++) sum[row + k] += headMean[row + k];
  }
}

/** Per query row, its k strongest long-range keys in the summed head mean (−1 weight: none), row-major [n, k]. */
export interface LongRangeTop {
  readonly weights: Float32Array;
  /** Key indices, as floats. */
  readonly keys: Float32Array;
  readonly k: number;
}

/** longRangePairs from each row's kept keys: the strongest non-special one per query (the kept are sorted). */
export function longRangePairsFromTop(
  top: LongRangeTop,
  layersSummed: number,
  tokens: readonly TokenInfo[],
): LongRangePair[] {
  const best: LongRangePair[] = [];
  if (layersSummed === 0) return best;
  for (let q = LONG_RANGE_DISTANCE; q < tokens.length; q++) {
    if (tokens[q].special) continue;
    for (let j = 0; j < top.k; j++) {
      const weight = top.weights[q * top.k + j];
      const key = top.keys[q * top.k + j];
      if (!(weight > 0)) break;
      if (tokens[key].special) continue;
      best.push({ query: q, key, distance: q - key, weight: weight / layersSummed });
      break;
    }
  }
  best.sort((a, b) => b.weight - a.weight);
  return best.slice(0, PAIR_COUNT);
}

export function longRangePairs(sum: Float32Array, layersSummed: number, tokens: readonly TokenInfo[]): LongRangePair[] {
  const n = tokens.length;
  const best: LongRangePair[] = [];
  if (layersSummed === 0) return best;
  for (let q = LONG_RANGE_DISTANCE; q < n; q++) {
    if (tokens[q].special) continue;
    let key = -1;
    let weight = 0;
    for (let k = 1; k <= q - LONG_RANGE_DISTANCE; k++) {
      const w = sum[q * n + k];
      if (w > weight && !tokens[k].special) {
        weight = w;
        key = k;
      }
    }
    if (key >= 0) best.push({ query: q, key, distance: q - key, weight: weight / layersSummed });
  }
  best.sort((a, b) => b.weight - a.weight);
  return best.slice(0, PAIR_COUNT);
}
