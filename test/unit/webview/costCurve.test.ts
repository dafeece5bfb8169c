import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CostSummary } from '../../../src/shared/protocol';
import { costCurve } from '../../../webview/model/costCurve';
import { formatBytes, formatCount, formatPercent, visibleTokenText } from '../../../webview/model/format';

const base: CostSummary = {
  target: 't', targetName: 'T', tokens: 1000, contextWindow: 8000, contextShare: 0.125,
  attentionScores: 1e6, attentionScoresCausal: 5e5, attentionFlops: 4e9, linearFlops: 1.6e10, kvCacheBytes: 1, price: null, warnings: [],
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
  const c = costCurve({ ...base, attentionScores: null, attentionScoresCausal: null, attentionFlops: null, linearFlops: null });
  assert.equal(c.unit, 'relative');
  assert.equal(c.current.attention, 1);
  assert.equal(c.crossover, null);
  assert.ok(c.points.every((p) => p.linear === null));
});

test('number formats', () => {
  assert.equal(formatCount(1234), '1234');
  assert.equal(formatCount(12_345), '12.3k');
  assert.equal(formatCount(3.4e9), '3.4G');
  assert.equal(formatBytes(131072), '128.0 KiB');
  assert.equal(formatPercent(0.125), '13 %');
  assert.equal(formatPercent(0.0042), '0.42 %');
  assert.equal(visibleTokenText(' a\n'), '·a↵');
});
