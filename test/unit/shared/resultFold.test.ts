// Folding the event stream into a result is the inverse of resultEvents: a result survives the round trip,
// layers arriving out of order land at their index, a header starts the layers afresh, and a result needs
// both its header and its summary.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resultEvents } from '../../../src/shared/resultEvents';
import { finishResult, foldEvent, foldEvents, ResultCollector } from '../../../src/shared/resultFold';
import type { InspectionResult, LayerAttention } from '../../../src/shared/protocol';

function layer(index: number): LayerAttention {
  const rows = {
    encoding: 'dense-u8',
    rows: 1,
    n: 1,
    k: 1,
    weights: Uint8Array.of(255),
    rowScale: Float32Array.of(1),
  } as const;
  return { layer: index, heads: rows, rollout: rows, received: Float32Array.of(1), headSummaries: [] };
}

const RESULT: InspectionResult = {
  requestId: 7,
  model: { id: 'm', layers: 3, heads: 1, kvHeads: 1, maxTokens: 8, provider: 'cpu' },
  text: 'a',
  tokens: [{ id: 1, text: 'a', start: 0, end: 1 }],
  source: { label: 'prompt.md', offset: 4 },
  layers: [layer(0), layer(1), layer(2)],
  summary: {
    heads: [],
    drivers: [],
    longRangePairs: [],
    notes: [],
    timings: { tokenizeMs: 0, runMs: 0, statsMs: 0, totalMs: 0 },
  },
};

test('a result folds back from its own events', () => {
  assert.deepEqual(finishResult(foldEvents(resultEvents(RESULT)), { label: '', offset: 0 }), RESULT);
});

test('layers land at their index whatever their order; no summary, no result', () => {
  const events = resultEvents(RESULT);
  const [source, header, l0, l1, l2, summary] = events;
  const collector = new ResultCollector();
  for (const e of [source, header, l2, l0, l1]) collector.sink(e);
  assert.equal(collector.result({ label: '', offset: 0 }), null);
  collector.sink(summary);
  assert.deepEqual(
    collector.result({ label: '', offset: 0 })?.layers.map((l) => l.layer),
    [0, 1, 2],
  );
});

test('a new header starts the layers afresh; an error is kept', () => {
  const events = resultEvents(RESULT);
  let partial = foldEvents(events);
  partial = foldEvent(partial, events[1]);
  assert.equal(partial.layers.length, 0);
  partial = foldEvent(partial, { kind: 'error', requestId: 7, message: 'stopped' });
  assert.equal(partial.error, 'stopped');
});
