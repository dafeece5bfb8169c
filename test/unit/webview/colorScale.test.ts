import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SHADE_BUCKETS,
  bucketAlpha,
  heatmapCeiling,
  heatmapLut,
  isDark,
  parseCssColor,
  shadeBucket,
  shadePalette,
} from '../../../webview/model/colorScale';

test('parses the colour forms VS Code theme variables use', () => {
  assert.deepEqual(parseCssColor('#d18616'), { r: 209, g: 134, b: 22 });
  assert.deepEqual(parseCssColor(' #fff '), { r: 255, g: 255, b: 255 });
  assert.deepEqual(parseCssColor('#1e1e1eff'), { r: 30, g: 30, b: 30 });
  assert.deepEqual(parseCssColor('rgba(10, 20, 30, 0.5)'), { r: 10, g: 20, b: 30 });
  assert.deepEqual(parseCssColor('rgb(10 20 30)'), { r: 10, g: 20, b: 30 });
  assert.equal(parseCssColor('var(--x)'), null);
  assert.equal(parseCssColor(''), null);
});

test('shade buckets: 0 for no weight, monotone, the maximum weight in the top bucket', () => {
  assert.equal(shadeBucket(0, 1), 0);
  assert.equal(shadeBucket(0.5, 0), 0);
  assert.equal(shadeBucket(1, 1), SHADE_BUCKETS);
  assert.ok(shadeBucket(0.001, 1) >= 1, 'a tiny but real weight stays visible');
  let prev = 0;
  for (let w = 0.01; w <= 1; w += 0.01) {
    const b = shadeBucket(w, 1);
    assert.ok(b >= prev);
    prev = b;
  }
  assert.equal(bucketAlpha(0), 0);
  assert.ok(bucketAlpha(SHADE_BUCKETS) <= 0.85 && bucketAlpha(1) > 0);
});

test('the shade palette is the theme colour with alpha by bucket', () => {
  const p = shadePalette({ r: 1, g: 2, b: 3 });
  assert.equal(p.length, SHADE_BUCKETS + 1);
  assert.equal(p[0], '');
  assert.match(p[SHADE_BUCKETS], /^rgba\(1, 2, 3, 0\.8\d*\)$/);
});

test('heatmap LUT runs from the background to the foreground colour', () => {
  const lut = heatmapLut({ r: 0, g: 0, b: 0 }, { r: 200, g: 100, b: 50 });
  assert.deepEqual([...lut.subarray(0, 4)], [0, 0, 0, 255]);
  assert.deepEqual([...lut.subarray(255 * 4, 256 * 4)], [200, 100, 50, 255]);
  assert.ok(lut[128 * 4] > 100, 'gamma lifts mid weights');
  assert.equal(isDark({ r: 30, g: 30, b: 30 }), true);
  assert.equal(isDark({ r: 255, g: 255, b: 255 }), false);
});

test('the heatmap ceiling ignores a few dominant weights so thin attention stays visible', () => {
  const values = new Float32Array(10_000);
  for (let i = 0; i < values.length; i++) values[i] = i % 2 ? 0.001 + (i % 7) * 0.0001 : 0;
  values[0] = 1; // one dominant cell (the sink)
  const ceiling = heatmapCeiling(values);
  assert.ok(ceiling < 0.1 && ceiling >= 0.05, `ceiling ${ceiling}`);
  assert.equal(heatmapCeiling(new Float32Array(4)), 0);
  const flat = new Float32Array([0.2, 0.2, 0.2]);
  assert.ok(Math.abs(heatmapCeiling(flat) - 0.2) < 1e-6);
});
