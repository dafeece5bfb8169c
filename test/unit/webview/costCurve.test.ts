import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CostSummary } from '../../../src/shared/protocol';
import { costCurve } from '../../../webview/model/costCurve';
import { formatWeight, visibleTokenText } from '../../../webview/model/tokenText';

const base: CostSummary = {
  target: 't',
  targetName: 'T',
  tokens: 1000,
  contextWindow: 8000,
  contextShare: 0.125,
  attentionScores: 1e6,
  attentionScoresCausal: 5e5,
  attentionFlops: 4e9,
  linearFlops: 1.6e10,
  kvCacheBytes: 1,
  price: null,
  warnings: [],
};

test('the curve is quadratic in n and marks the current prompt and the crossover', () => {
  const c = costCurve(base);
  assert.equal(c.unit, 'flops');
  assert.equal(c.maxN, 8000);
  assert.equal(c.current.attention, 4e9);
  const at2000 = c.points.find((p) => p.n === 2000)!;
  assert.equal(at2000.attention, 16e9);
  assert.equal(at2000.linear, 3.2e10);
  assert.equal(c.crossover, 4000); // 4e9·(n/1000)² = 1.6e10·(n/1000) ⇒ n = 4000
});

test('an unknown architecture gives a relative curve without invented figures', () => {
  const c = costCurve({
    ...base,
    attentionScores: null,
    attentionScoresCausal: null,
    attentionFlops: null,
    linearFlops: null,
  });
  assert.equal(c.unit, 'relative');
  assert.equal(c.current.attention, 1);
  assert.equal(c.crossover, null);
  assert.ok(c.points.every((p) => p.linear === null));
});

test('token text and weights as the panel words them (numbers: test/unit/shared/format.test.ts)', () => {
  assert.equal(visibleTokenText(' a\n'), '·a↵');
  assert.equal(visibleTokenText('x'.repeat(30), 8), 'xxxxxxx…');
  assert.equal(formatWeight(0.12345), '0.123');
  assert.equal(formatWeight(0.0001234), '1.2e-4');
});
