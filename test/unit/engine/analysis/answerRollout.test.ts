// The answer tokens' rollout recursion (analysis/answerRollout.ts) against full float64 matrix products
// (test/helpers/referenceRollout.ts) on random causal attention: row by row from nothing, and after a seeded
// whole pass; each row of a rollout sums to 1, as a product of row-stochastic matrices must.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headMean, RolloutRows } from '../../../../src/engine/analysis/answerRollout';
import { seededRandom } from '../../../../src/shared/seededRandom';
import { referenceRollout } from '../../../helpers/referenceRollout';

const LAYERS = 3;
const HEADS = 4;
const N = 23;

/** Per layer, random causal softmax rows [heads, n, n] (some near one-hot, as real heads are). */
function randomAttention(seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: LAYERS }, () => {
    const p = new Float32Array(HEADS * N * N);
    for (let h = 0; h < HEADS; h++)
      for (let q = 0; q < N; q++) {
        const sharp = random() < 0.3 ? 8 : 1;
        let total = 0;
        for (let k = 0; k <= q; k++) total += p[(h * N + q) * N + k] = Math.exp(sharp * 3 * random());
        for (let k = 0; k <= q; k++) p[(h * N + q) * N + k] /= total;
      }
    return p;
  });
}

/** Position q's row [heads × (q + 1)] of every layer, as the generation session captures it. */
function rowsAt(p: readonly Float32Array[], q: number): Float32Array[] {
  return p.map((data) => {
    const row = new Float32Array(HEADS * (q + 1));
    for (let h = 0; h < HEADS; h++) row.set(data.subarray((h * N + q) * N, (h * N + q) * N + q + 1), h * (q + 1));
    return row;
  });
}

function worstDifference(got: Float32Array, expected: Float64Array, q: number): number {
  let worst = 0;
  for (let k = 0; k < N; k++) worst = Math.max(worst, Math.abs((k <= q ? got[k] : 0) - expected[q * N + k]));
  return worst;
}

test('the row recursion equals the float64 matrix product of Â_l = ½M_l + ½I at every position and layer', () => {
  const p = randomAttention(3);
  const expected = referenceRollout(p, N);
  const rollout = new RolloutRows(LAYERS);
  let worst = 0;
  for (let q = 0; q < N; q++) {
    const rows = rollout.push(rowsAt(p, q).map((r) => headMean(r, q + 1)));
    assert.equal(rows.length, LAYERS);
    rows.forEach((row, l) => {
      assert.equal(row.length, q + 1);
      worst = Math.max(worst, worstDifference(row, expected[l], q));
      const sum = row.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `row ${q} of layer ${l} sums to ${sum}`);
    });
  }
  assert.ok(worst < 1e-6, `largest difference ${worst}`);
  // Not the raw attention: the rollout of the last layer differs from its head mean.
  const last = rollout.at(N - 1)[LAYERS - 1];
  const mean = headMean(rowsAt(p, N - 1)[LAYERS - 1], N);
  assert.ok(last.some((v, k) => Math.abs(v - mean[k]) > 1e-3));
});

test('after a seeded whole pass, the tokens pushed after it get the same rows as the full product', () => {
  const p = randomAttention(11);
  const expected = referenceRollout(p, N);
  const seeded = 15;
  // The seed: the reference's own matrices over the first 15 positions (a prefix of a causal rollout).
  const matrices = expected.map((r) => {
    const m = new Float32Array(seeded * seeded);
    for (let i = 0; i < seeded; i++) for (let j = 0; j <= i; j++) m[i * seeded + j] = r[i * N + j];
    return m;
  });
  const rollout = new RolloutRows(LAYERS);
  rollout.seed(matrices, seeded);
  assert.equal(rollout.length, seeded);
  let worst = 0;
  for (let q = seeded; q < N; q++)
    rollout.push(rowsAt(p, q).map((r) => headMean(r, q + 1))).forEach((row, l) => {
      worst = Math.max(worst, worstDifference(row, expected[l], q));
    });
  assert.ok(worst < 1e-6, `largest difference ${worst}`);
  assert.throws(() => rollout.push([new Float32Array(3)]), /layers/);
});
