import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InspectionEvent } from '../../../src/shared/protocol';
import {
  initialState,
  reduce,
  resultOf,
  stateFromResult,
  type InspectionState,
  type StateInput,
} from '../../../webview/model/inspectionState';
import { syntheticResult } from '../../helpers/syntheticResult';

const result = syntheticResult('Hello world, again.');
const { layers, summary, source, cost, ...header } = result;

function run(
  messages: StateInput[],
  from: InspectionState = initialState,
): { state: InspectionState; changes: string[] } {
  let state = from;
  const changes: string[] = [];
  for (const m of messages) {
    const t = reduce(state, m);
    state = t.state;
    changes.push(t.change);
  }
  return { state, changes };
}

test('progress → start → layers stream → done', () => {
  const { state, changes } = run([
    { kind: 'progress', requestId: 1, stage: 'load', fraction: 0.5 },
    { kind: 'header', requestId: 1, header },
    { kind: 'layer', requestId: 1, layer: layers[1] },
    { kind: 'layer', requestId: 1, layer: layers[0] },
    { kind: 'summary', requestId: 1, summary },
  ]);
  assert.deepEqual(changes, ['reset', 'reset', 'layer', 'layer', 'summary']);
  assert.equal(state.phase, 'done');
  assert.equal(state.layers[0], layers[0]);
  assert.equal(state.layers[1], layers[1]);
  assert.equal(resultOf(state)?.layers.length, 2);
});

test('messages of an older request are ignored once a newer one started', () => {
  const start2: InspectionEvent = { kind: 'header', requestId: 2, header: { ...header, requestId: 2 } };
  const { state, changes } = run([
    { kind: 'header', requestId: 1, header },
    start2,
    { kind: 'layer', requestId: 1, layer: layers[0] },
    { kind: 'summary', requestId: 1, summary },
    { kind: 'error', requestId: 1, message: 'old' },
    { kind: 'progress', requestId: 1, stage: 'run' },
  ]);
  assert.deepEqual(changes, ['reset', 'reset', 'none', 'none', 'none', 'none']);
  assert.equal(state.phase, 'running');
  assert.equal(state.requestId, 2);
});

test('errors end the run with the message; stale toggles only on change', () => {
  const { state, changes } = run([
    { kind: 'header', requestId: 1, header },
    { kind: 'error', requestId: 1, message: 'Model file missing: model.onnx' },
    { kind: 'stale', stale: true },
    { kind: 'stale', stale: true },
  ]);
  assert.deepEqual(changes, ['reset', 'error', 'stale', 'none']);
  assert.equal(state.phase, 'error');
  assert.equal(state.error, 'Model file missing: model.onnx');
  assert.equal(state.stale, true);
  assert.equal(resultOf(state), null);
});

test('an error before any header (e.g. bad input) is shown', () => {
  const { state } = run([{ kind: 'error', requestId: 5, message: 'The text is empty.' }]);
  assert.equal(state.phase, 'error');
  assert.equal(state.requestId, 5);
});

test('a complete result (HTML report) becomes a done state', () => {
  const state = stateFromResult(result);
  assert.equal(state.phase, 'done');
  assert.equal(state.header?.text, result.text);
  assert.equal(resultOf(state)?.summary, summary);
});

test('source and cost are events of their own: before or after the header, neither holds up the layers', () => {
  const { state, changes } = run([
    { kind: 'source', requestId: 1, source },
    { kind: 'header', requestId: 1, header },
    { kind: 'layer', requestId: 1, layer: layers[0] },
    ...(cost ? [{ kind: 'cost', requestId: 1, cost } as const] : []),
    { kind: 'layer', requestId: 1, layer: layers[1] },
    { kind: 'summary', requestId: 1, summary },
  ]);
  assert.deepEqual(changes, ['reset', 'reset', 'layer', ...(cost ? ['cost'] : []), 'layer', 'summary']);
  assert.deepEqual(state.source, source);
  assert.deepEqual(resultOf(state)?.source, source);
  assert.equal(resultOf(state)?.cost, cost);
});
