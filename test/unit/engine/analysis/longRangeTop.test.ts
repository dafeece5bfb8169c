// The long-range pairs from each query's kept strongest keys (blocked statistics, long inputs) equal the pairs
// from the whole [n, n] sum: the same strongest non-special key per query, the same top PAIR_COUNT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LONG_RANGE_DISTANCE, longRangePairs, longRangePairsFromTop } from '../../../../src/engine/analysis/drivers';
import type { TokenInfo } from '../../../../src/shared/protocol';

const N = 90;
const K = 4;

function tokens(special: ReadonlySet<number>): TokenInfo[] {
  return Array.from({ length: N }, (_, i) => ({ id: i, text: `t${i}`, start: i, end: i + 1, special: special.has(i) }));
}

/** A deterministic summed head mean and its per-row top K (keys 1..q − distance, −1 past the last). */
function sums(): { sum: Float32Array; weights: Float32Array; keys: Float32Array } {
  const sum = new Float32Array(N * N);
  let seed = 7;
  for (let i = 0; i < sum.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    sum[i] = seed / 2 ** 31;
  }
  const weights = new Float32Array(N * K).fill(-1);
  const keys = new Float32Array(N * K);
  for (let q = 0; q < N; q++) {
    const row = Array.from({ length: Math.max(0, q - LONG_RANGE_DISTANCE) }, (_, k) => k + 1);
    row.sort((a, b) => sum[q * N + b] - sum[q * N + a]);
    row.slice(0, K).forEach((k, j) => {
      weights[q * K + j] = sum[q * N + k];
      keys[q * K + j] = k;
    });
  }
  return { sum, weights, keys };
}

test('pairs from the kept top keys equal those from the whole sum, special keys skipped', () => {
  const { sum, weights, keys } = sums();
  // Make some rows' strongest key special: the next kept one must be taken.
  const special = new Set<number>();
  for (const q of [60, 75, 89]) special.add(keys[q * K]);
  const t = tokens(special);
  const whole = longRangePairs(sum, 3, t);
  const top = longRangePairsFromTop({ weights, keys, k: K }, 3, t);
  assert.ok(whole.length > 0);
  assert.deepEqual(top, whole);
  for (const pair of top) assert.ok(!special.has(pair.key) && pair.distance >= LONG_RANGE_DISTANCE);
});

test('a row whose kept keys are all special, or that has none, gives no pair', () => {
  const weights = new Float32Array(N * K).fill(-1);
  const keys = new Float32Array(N * K);
  weights[50 * K] = 0.5;
  keys[50 * K] = 3;
  assert.deepEqual(longRangePairsFromTop({ weights, keys, k: K }, 1, tokens(new Set([3]))), []);
  assert.deepEqual(longRangePairsFromTop({ weights, keys, k: K }, 2, tokens(new Set())), [
    { query: 50, key: 3, distance: 47, weight: 0.25 },
  ]);
});
