// The view's rollout rows on demand (webview/model/rolloutRows.ts): asked only in Rollout mode for a layer that
// came without rollout rows; the focus first, then the screen, nothing held or already on the way asked again;
// progress and replies of a superseded request or another inspection dropped; the line shown meanwhile; the row
// a focus reads, with the sink hidden as the matrix hides it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionRows, LayerAttention } from '../../../src/shared/protocol';
import { RolloutRowStore } from '../../../webview/model/rolloutRows';
import { DEFAULT_CONTROLS } from '../../../webview/model/viewState';

const rows = (k: number): AttentionRows => ({ k }) as AttentionRows;
const layer = (l: number, k: number): LayerAttention => ({ layer: l, rollout: rows(k) }) as LayerAttention;
const ROLLOUT = { ...DEFAULT_CONTROLS, mode: 'rollout' } as const;

test('rows come on demand only in Rollout mode, "attends to", for an arrived layer without rollout rows', () => {
  const store = new RolloutRowStore();
  store.reset(3);
  const rowless = [layer(0, 0), layer(1, 0), layer(2, 0)];
  assert.equal(store.layerFor(ROLLOUT, rowless, 3), 2, 'all layers: the rollout through the last');
  assert.equal(store.layerFor({ ...ROLLOUT, layer: 1 }, rowless, 3), 1);
  assert.equal(store.layerFor(DEFAULT_CONTROLS, rowless, 3), null, 'attention mode');
  assert.equal(store.layerFor({ ...ROLLOUT, direction: 'by' }, rowless, 3), null);
  assert.equal(store.layerFor(ROLLOUT, [layer(0, 0), layer(1, 0)], 3), null, 'last layer not arrived');
  assert.equal(store.layerFor(ROLLOUT, [layer(0, 64), layer(1, 64), layer(2, 64)], 3), null, 'graph rows');
});

test('the focus and the screen are asked once; progress and the reply of the request in flight are kept', () => {
  const store = new RolloutRowStore();
  store.reset(3);
  const ask = store.toAsk(2, [10, 14], 40, false);
  assert.deepEqual(ask, { layer: 2, queries: [40, 10, 11, 12, 13] });
  store.sent(1, ask);
  assert.ok(ask);
  assert.equal(store.toAsk(2, [10, 14], 12, false), null, 'on the way');
  assert.equal(store.toAsk(2, [10, 14], 90, false), null, 'a hovered token waits for the rows in flight');
  assert.deepEqual(store.toAsk(2, [10, 14], 90, true), { layer: 2, queries: [90, 10, 11, 12, 13] }, 'a pin does not');
  assert.equal(store.line(), 'Rollout: computing the rows on screen in the background (layer 1 of 3)…');
  const progress = { kind: 'rollout-progress', inReplyTo: 1, inspection: 3, layer: 2, done: 2, of: 3 } as const;
  assert.ok(store.progress(progress));
  assert.equal(store.line(), 'Rollout: computing the rows on screen in the background (layer 3 of 3)…');
  assert.equal(store.progress({ ...progress, inReplyTo: 0 }), false, 'a superseded request');
  assert.equal(store.progress({ ...progress, inspection: 2 }), false, 'another inspection');
  const row = (w: number[]): Float32Array => Float32Array.from(w);
  const reply = {
    kind: 'rollout-rows',
    inReplyTo: 1,
    inspection: 3,
    layer: 2,
    queries: ask.queries,
    rows: ask.queries.map(() => row([0.5, 0.25, 0.25])),
  } as const;
  assert.equal(store.accept({ ...reply, inspection: 9 }), false);
  assert.ok(store.accept(reply));
  assert.equal(store.computing, false);
  assert.equal(store.line(), '');
  assert.deepEqual(store.row(2, 40, false), row([0.5, 0.25, 0.25]));
  assert.deepEqual(store.row(2, 40, true), row([0, 0.5, 0.5]), 'sink hidden, renormalized');
  assert.equal(store.row(1, 40, false), null, 'another layer');
  assert.equal(store.toAsk(2, [10, 14], 40, true), null, 'held');
  assert.deepEqual(store.toAsk(2, [12, 16], 40, false), { layer: 2, queries: [14, 15] });
});

test('a newer ask supersedes; an error other than being stopped ends the asking for this inspection', () => {
  const store = new RolloutRowStore();
  store.reset(3);
  store.sent(1, { layer: 2, queries: [5] });
  const next = store.toAsk(2, [100, 102], null, false);
  assert.deepEqual(next, { layer: 2, queries: [100, 101] }, 'a new screen supersedes');
  assert.ok(next);
  store.sent(2, next);
  const base = { kind: 'rollout-rows', inspection: 3, layer: 2, queries: [5] } as const;
  assert.ok(store.accept({ ...base, inReplyTo: 1, error: 'Stopped: a newer request or inspection replaced it.' }));
  assert.ok(store.computing, 'the newer one is still on the way');
  assert.ok(store.accept({ ...base, inReplyTo: 2, error: 'That inspection is no longer in memory; run it again.' }));
  assert.match(store.line(), /^Rollout: That inspection is no longer in memory/);
  assert.equal(store.layerFor(ROLLOUT, [layer(0, 0), layer(1, 0), layer(2, 0)], 3), null);
  store.reset(4);
  assert.equal(store.layerFor(ROLLOUT, [layer(0, 0), layer(1, 0), layer(2, 0)], 3), 2);
});
