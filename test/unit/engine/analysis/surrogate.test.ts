// The random-ablation surrogate: on a synthetic score with known weights it recovers the largest ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ablationCount,
  fitSparseLinear,
  randomMasks,
  seededGenerator,
} from '../../../../src/engine/analysis/surrogate';

test('Lasso on random masks recovers the three largest of 40 weights, close to their values', () => {
  const d = 40;
  const m = ablationCount(d);
  const random = seededGenerator(42);
  const truth = Float64Array.from({ length: d }, () => (random() - 0.5) * 0.2);
  truth[3] = 6;
  truth[17] = -4;
  truth[29] = 2.5;
  const x = randomMasks(m, d, random);
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let v = -12;
    for (let j = 0; j < d; j++) v += truth[j] * x[i * d + j];
    y[i] = v + (random() - 0.5) * 0.2;
  }
  const fit = fitSparseLinear(x, y, d);
  const top = Array.from(fit.weights, (w, j) => ({ j, w: Math.abs(w) }))
    .sort((a, b) => b.w - a.w)
    .slice(0, 3)
    .map((e) => e.j)
    .sort((a, b) => a - b);
  assert.deepEqual(top, [3, 17, 29]);
  for (const j of [3, 17, 29]) assert.ok(Math.abs(fit.weights[j] - truth[j]) < 0.3, `w${j} = ${fit.weights[j]}`);
  assert.ok(Math.abs(fit.intercept + 12) < 1, `intercept ${fit.intercept}`);
  // Most small weights are set to zero or near it.
  const small = Array.from(fit.weights).filter((w, j) => ![3, 17, 29].includes(j) && Math.abs(w) > 0.3);
  assert.equal(small.length, 0);
});

test('masks keep about half the sources and the generator is reproducible', () => {
  const a = randomMasks(100, 20, seededGenerator(5));
  const b = randomMasks(100, 20, seededGenerator(5));
  assert.deepEqual(a, b);
  const kept = a.reduce((s, v) => s + v, 0) / a.length;
  assert.ok(kept > 0.4 && kept < 0.6, `kept ${kept}`);
});
