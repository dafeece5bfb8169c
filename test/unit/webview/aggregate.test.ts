import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionRows, LayerAttention } from '../../../src/shared/protocol';
import { addRowInto, cellWeight, maxRowInto } from '../../../webview/model/attentionRows';
import { buildMatrix, hideSinkInPlace, receivedFor } from '../../../webview/model/aggregate';
import { focusVector, topEntries } from '../../../webview/model/focus';
import { syntheticResult } from '../../helpers/syntheticResult';
import { denseRows, HEAD0, HEAD1 } from '../../helpers/denseRows';

const dense = denseRows;

const h0 = HEAD0;
const h1 = HEAD1;
const layer0: LayerAttention = {
  layer: 0,
  heads: dense(3, [...h0, ...h1]),
  rollout: dense(3, [
    [1, 0, 0],
    [0.75, 0.25, 0],
    [0.4, 0.25, 0.35],
  ]),
  received: new Float32Array([0.7, 0.2, 0.1]),
  headSummaries: [],
};
const layer1: LayerAttention = {
  ...layer0,
  layer: 1,
  heads: dense(3, [...h1, ...h0]),
  rollout: dense(3, [
    [1, 0, 0],
    [0.9, 0.1, 0],
    [0.5, 0.2, 0.3],
  ]),
};

const close = (a: ArrayLike<number>, b: number[], eps = 0.01): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < eps, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('dense rows decode to q/255 × rowScale', () => {
  const out = new Float32Array(3);
  addRowInto(layer0.heads, 2, out);
  close(out, [0.2, 0.3, 0.5]);
  assert.ok(Math.abs(cellWeight(layer0.heads, 5, 0) - 0.6) < 0.01);
  const max = new Float32Array(3);
  maxRowInto(layer0.heads, 2, max);
  maxRowInto(layer0.heads, 5, max);
  close(max, [0.6, 0.3, 0.5]);
});

test('top-k rows decode, skip padding, and read missing keys as 0', () => {
  const rows: AttentionRows = {
    encoding: 'topk-u8',
    rows: 1,
    n: 600,
    k: 3,
    weights: new Uint8Array([255, 128, 0]),
    rowScale: new Float32Array([0.8]),
    indices: new Uint16Array([7, 2, 0xffff]),
  };
  const out = new Float32Array(600);
  addRowInto(rows, 0, out);
  assert.ok(Math.abs(out[7] - 0.8) < 1e-6);
  assert.ok(Math.abs(out[2] - 0.4) < 0.01);
  assert.equal(out[0], 0);
  assert.equal(cellWeight(rows, 0, 599), 0);
});

test('one head, mean and max over heads', () => {
  const one = buildMatrix([layer0], 3, 2, { layer: 0, head: 1, mode: 'attention', hideSink: false })!;
  close(one.subarray(6, 9), [0.6, 0.2, 0.2]);
  const mean = buildMatrix([layer0], 3, 2, { layer: 0, head: 'mean', mode: 'attention', hideSink: false })!;
  close(mean.subarray(3, 6), [0.75, 0.25, 0]);
  close(mean.subarray(6, 9), [0.4, 0.25, 0.35]);
  const max = buildMatrix([layer0], 3, 2, { layer: 0, head: 'max', mode: 'attention', hideSink: false })!;
  close(max.subarray(6, 9), [0.6, 0.3, 0.5]);
});

test('all layers is the mean over layers; rollout of all is the last layer’s rollout', () => {
  const all = buildMatrix([layer0, layer1], 3, 2, { layer: 'all', head: 0, mode: 'attention', hideSink: false })!;
  close(all.subarray(6, 9), [0.4, 0.25, 0.35]); // (h0 + h1) / 2 for row 2
  const roll = buildMatrix([layer0, layer1], 3, 2, { layer: 'all', head: 'mean', mode: 'rollout', hideSink: false })!;
  close(roll.subarray(6, 9), [0.5, 0.2, 0.3]);
  const roll0 = buildMatrix([layer0, layer1], 3, 2, { layer: 0, head: 'mean', mode: 'rollout', hideSink: false })!;
  close(roll0.subarray(3, 6), [0.75, 0.25, 0]);
});

test('a layer that has not streamed in yet gives no matrix', () => {
  assert.equal(buildMatrix([layer0], 3, 2, { layer: 1, head: 0, mode: 'attention', hideSink: false }), null);
  assert.equal(buildMatrix([], 3, 2, { layer: 'all', head: 0, mode: 'attention', hideSink: false }), null);
});

test('hiding the sink zeroes key 0 and renormalizes each row', () => {
  const m = new Float32Array([1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5]);
  hideSinkInPlace(m, 3);
  close(m, [0, 0, 0, 0, 1, 0, 0, 0.375, 0.625]);
});

test('focus row ("attends to"), column ("attended by"), threshold and top entries', () => {
  const m = buildMatrix([layer0], 3, 2, { layer: 0, head: 0, mode: 'attention', hideSink: false })!;
  const out = new Float32Array(3);
  focusVector(m, 3, 2, 'to', 0, out);
  close(out, [0.2, 0.3, 0.5]);
  focusVector(m, 3, 0, 'by', 0, out);
  close(out, [1, 0.5, 0.2]);
  focusVector(m, 3, 0, 'by', 0.4, out);
  close(out, [1, 0.5, 0]);
  assert.deepEqual(
    topEntries(new Float32Array([0.1, 0.5, 0, 0.3]), 2).map((e) => e.index),
    [1, 3],
  );
});

test('received is averaged over the chosen layers', () => {
  close(receivedFor([layer0, layer1], 3, 'all'), [0.7, 0.2, 0.1]);
});

test('a 1,024-token top-k result aggregates with rows summing to at most 1', () => {
  const result = syntheticResult('word '.repeat(1023).trim(), { layers: 1, heads: 2, topK: 16 });
  const n = result.tokens.length;
  assert.equal(result.layers[0].heads.encoding, 'topk-u8');
  const m = buildMatrix(result.layers, n, 2, { layer: 'all', head: 'mean', mode: 'attention', hideSink: true })!;
  for (const q of [1, 100, n - 1]) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += m[q * n + k];
    assert.ok(sum <= 1.02 && sum > 0.1, `row ${q} sums to ${sum}`);
    assert.equal(m[q * n], 0);
  }
});
