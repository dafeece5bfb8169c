// The view's exact rows: which rows a focus asks for, that each is asked once, that replies of another
// inspection are dropped, and that the rows combine (mean over layers, sink hidden) as the matrix does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExactRowStore } from '../../../webview/model/exactRows';
import { DEFAULT_CONTROLS } from '../../../webview/model/viewState';
import { hideSinkInPlace } from '../../../webview/model/aggregate';

const reply = (inspection: number, layer: number, head: number | null, query: number, weights?: Float32Array) => ({
  kind: 'attention-row' as const,
  inReplyTo: 1,
  inspection,
  layer,
  head,
  query,
  ...(weights ? { weights } : {}),
});

test('a focus asks each layer once for the head mean; rollout, max and "attended by" ask nothing', () => {
  const store = new ExactRowStore();
  store.reset(7);
  const keys = store.needed(DEFAULT_CONTROLS, 5, 3);
  assert.deepEqual(
    keys,
    [0, 1, 2].map((layer) => ({ layer, head: null, query: 5 })),
  );
  assert.equal(store.toAsk(keys).length, 3);
  assert.equal(store.toAsk(keys).length, 0, 'asked once');
  assert.deepEqual(store.needed({ ...DEFAULT_CONTROLS, layer: 1, head: 2 }, 5, 3), [{ layer: 1, head: 2, query: 5 }]);
  for (const c of [{ mode: 'rollout' }, { head: 'max' }, { direction: 'by' }] as const)
    assert.deepEqual(store.needed({ ...DEFAULT_CONTROLS, ...c }, 5, 3), [], JSON.stringify(c));
  assert.deepEqual(store.needed(DEFAULT_CONTROLS, null, 3), []);
});

test('rows combine once all arrived: the mean over layers, then the sink hidden as the matrix hides it', () => {
  const store = new ExactRowStore();
  store.reset(7);
  const keys = store.needed(DEFAULT_CONTROLS, 2, 2);
  const a = Float32Array.of(0.5, 0.25, 0.25, 0);
  const b = Float32Array.of(0.1, 0.3, 0.6, 0);
  assert.equal(store.accept(reply(6, 0, null, 2, a)), false, 'another inspection');
  assert.equal(store.accept(reply(7, 0, null, 2, a)), true);
  assert.equal(store.combined(keys, 4, false), null, 'waiting for layer 1');
  store.accept(reply(7, 1, null, 2, b));
  const mean = store.combined(keys, 4, false);
  assert.ok(mean);
  [0.3, 0.275, 0.425, 0].forEach((v, i) => assert.ok(Math.abs(mean[i] - v) < 1e-7));
  const hidden = store.combined(keys, 4, true);
  const expected = Float32Array.from(mean);
  hideSinkInPlace(expected, 4);
  assert.ok(hidden);
  expected.forEach((v, i) => assert.ok(Math.abs(hidden[i] - v) < 1e-7));
});

test('a refusal (no rows for this inspection) stops the asking', () => {
  const store = new ExactRowStore();
  store.reset(3);
  assert.equal(store.accept(reply(3, 0, null, 1)), true);
  assert.deepEqual(store.needed(DEFAULT_CONTROLS, 1, 2), []);
  store.reset(4);
  assert.equal(store.needed(DEFAULT_CONTROLS, 1, 2).length, 2);
});
