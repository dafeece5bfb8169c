// The long inspection's matrix without n × n (longMatrix.ts), checked against plain dense recomputations: with
// rows, its rows, overview and section figures equal those of the dense matrix the short path builds; without
// rows (k = 0), the estimate equals A[q][k] = c[k] / Σ_{j ≤ q} c[j], c[k] = received[k] · n / (n − k), written
// out here in float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerAttention } from '../../../src/shared/protocol';
import { buildMatrix, type Selection } from '../../../webview/model/aggregate';
import { LongMatrix, OVERVIEW_BINS } from '../../../webview/model/longMatrix';
import { longSectionFigures, sectionFigures, sectionLayout } from '../../../webview/model/sectionFigures';
import { longResult } from '../../helpers/longResult';
import { syntheticResult } from '../../helpers/syntheticResult';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tolerance: number, what: string): void => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tolerance, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

/** Block means over the causal cells of a dense n × n matrix, bin tokens a block. */
function blockMeans(dense: ArrayLike<number>, n: number, bin: number): Float64Array {
  const size = Math.ceil(n / bin);
  const sum = new Float64Array(size * size);
  const count = new Float64Array(size * size);
  for (let q = 0; q < n; q++)
    for (let k = 0; k <= q; k++) {
      const at = Math.floor(q / bin) * size + Math.floor(k / bin);
      sum[at] += dense[q * n + k];
      count[at]++;
    }
  return sum.map((s, i) => (count[i] > 0 ? s / count[i] : 0));
}

const text = Array.from({ length: 700 }, (_, i) =>
  i % 11 === 10 ? '\n' : i % 97 === 5 ? '\n## Part\n' : ` w${i}`,
).join('');

test('with rows: the rows, the overview and the section figures equal the dense matrix’s', () => {
  const result = syntheticResult(text, { layers: 2, heads: 3, topK: 16 });
  const n = result.tokens.length;
  assert.ok(n > OVERVIEW_BINS, 'enough tokens for blocks of more than one');
  const layout = sectionLayout(result.text, result.tokens);
  const selections: Selection[] = [
    { layer: 'all', head: 'mean', mode: 'attention', hideSink: false },
    { layer: 1, head: 2, mode: 'attention', hideSink: true },
    { layer: 'all', head: 'max', mode: 'attention', hideSink: false },
    { layer: 'all', head: 'mean', mode: 'rollout', hideSink: false },
  ];
  for (const sel of selections) {
    const what = JSON.stringify(sel);
    const dense = buildMatrix(result.layers, n, 3, sel);
    assert.ok(dense);
    const long = new LongMatrix(result.layers, n, 3, sel);
    assert.equal(long.estimated, false, what);
    const row = new Float32Array(n);
    for (const q of [0, 1, 200, n - 1]) {
      long.rowInto(q, row);
      close(row, dense.subarray(q * n, (q + 1) * n), 1e-6, `${what} row ${q}`);
    }
    const column = new Float32Array(n);
    long.columnInto(7, column);
    close(
      column,
      Array.from({ length: n }, (_, q) => dense[q * n + 7]),
      1e-6,
      `${what} column 7`,
    );
    const overview = long.overview();
    assert.equal(overview.bin, Math.ceil(n / OVERVIEW_BINS));
    close(overview.cells, blockMeans(dense, n, overview.bin), 1e-6, `${what} overview`);
    const want = sectionFigures(layout, dense, n);
    const got = longSectionFigures(layout, long);
    close(got.received, want.received, 1e-6, `${what} section received`);
    assert.ok(want.matrix && got.matrix, 'a section matrix');
    close(got.matrix, want.matrix, 1e-5, `${what} section matrix`);
    close(got.profile?.deciles ?? [], want.profile?.deciles ?? [], 1e-6, `${what} profile`);
  }
});

test('without rows: the estimate from per-token figures, in float64', () => {
  const result = longResult(900, 2, 2);
  const n = result.tokens.length;
  // Uneven received figures (each layer's sums to 1), as a real model's would be.
  const layers: LayerAttention[] = result.layers.map((l, i) => {
    const received = Float32Array.from({ length: n }, (_, k) => (k === 0 ? 50 : 1 + ((k * (7 + i)) % 13)));
    const total = received.reduce((a, b) => a + b, 0);
    return { ...l, received: received.map((r) => r / total) };
  });
  for (const hideSink of [false, true]) {
    const c = new Float64Array(n);
    for (const l of layers) for (let k = 0; k < n; k++) c[k] += (l.received[k] * n) / (n - k) / layers.length;
    if (hideSink) c[0] = 0;
    const dense = new Float64Array(n * n);
    for (let q = 0; q < n; q++) {
      let total = 0;
      for (let k = 0; k <= q; k++) total += c[k];
      for (let k = 0; k <= q; k++) dense[q * n + k] = total > 0 ? c[k] / total : 0;
    }
    const long = new LongMatrix(layers, n, 2, { layer: 'all', head: 'mean', mode: 'attention', hideSink });
    assert.equal(long.estimated, true);
    const row = new Float32Array(n);
    for (const q of [0, 3, 450, n - 1]) {
      long.rowInto(q, row);
      close(row, dense.subarray(q * n, (q + 1) * n), 1e-6, `row ${q}`);
    }
    const column = new Float32Array(n);
    long.columnInto(40, column);
    close(
      column,
      Array.from({ length: n }, (_, q) => dense[q * n + 40]),
      1e-6,
      'column 40',
    );
    const overview = long.overview();
    close(overview.cells, blockMeans(dense, n, overview.bin), 1e-6, 'overview');
    const layout = sectionLayout(result.text, result.tokens);
    const want = sectionFigures(layout, Float32Array.from(dense), n);
    const got = longSectionFigures(layout, long);
    close(got.received, want.received, 1e-5, 'section received');
    close(got.profile?.deciles ?? [], want.profile?.deciles ?? [], 1e-5, 'profile');
  }
});
