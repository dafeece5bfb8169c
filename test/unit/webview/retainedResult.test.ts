// A failed inspection keeps the previous result on screen, marked stale, under the error banner; a successful
// one replaces it; the first inspection's failure has nothing to keep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialState, reduce, type InspectionState, type StateInput } from '../../../webview/model/inspectionState';
import { initialViewState, reduceView } from '../../../webview/model/viewState';
import { syntheticResult } from '../../helpers/syntheticResult';

const result = syntheticResult('Hello world, again.');
const { layers, summary, source, cost: _cost, ...header } = result;

function run(messages: StateInput[], from: InspectionState = initialState): InspectionState {
  return messages.reduce((state, m) => reduce(state, m).state, from);
}

const firstRun: StateInput[] = [
  { kind: 'source', requestId: 1, source },
  { kind: 'header', requestId: 1, header },
  ...layers.map((layer): StateInput => ({ kind: 'layer', requestId: 1, layer })),
  { kind: 'summary', requestId: 1, summary },
];

test('a failed run shows the previous result again, stale, with the error', () => {
  const done = run(firstRun);
  assert.equal(done.phase, 'done');
  const started = reduce(done, { kind: 'progress', requestId: 2, stage: 'load' });
  assert.equal(started.change, 'reset');
  assert.equal(started.state.header, undefined, 'the new run starts empty');
  const failed = reduce(started.state, { kind: 'error', requestId: 2, message: 'Cannot download x: fetch failed' });
  assert.equal(failed.change, 'reset');
  assert.equal(failed.state.phase, 'error');
  assert.equal(failed.state.error, 'Cannot download x: fetch failed');
  assert.equal(failed.state.requestId, 2);
  assert.equal(failed.state.previous, true);
  assert.equal(failed.state.stale, true);
  assert.equal(failed.state.header, header, 'the previous tokens are back');
  assert.equal(failed.state.summary, summary);
  assert.equal(failed.state.layers.length, layers.length);
  // Late events of the failed run change nothing; a later run that succeeds replaces it all.
  assert.equal(reduce(failed.state, { kind: 'progress', requestId: 2, stage: 'run' }).change, 'none');
  const h3 = { ...header, requestId: 3 };
  const ok = run(
    [
      { kind: 'header', requestId: 3, header: h3 },
      ...layers.map((layer): StateInput => ({ kind: 'layer', requestId: 3, layer })),
      { kind: 'summary', requestId: 3, summary },
    ],
    failed.state,
  );
  assert.equal(ok.phase, 'done');
  assert.equal(ok.previous, undefined);
  assert.equal(ok.retained, undefined);
  assert.equal(ok.stale, false);
});

test('a failure after the new header still goes back to the last finished result; a first failure has none', () => {
  const done = run(firstRun);
  const h2 = { ...header, requestId: 2, text: 'Other text.' };
  const midway = run([{ kind: 'header', requestId: 2, header: h2 }], done);
  assert.equal(midway.header, h2);
  const failed = reduce(midway, { kind: 'error', requestId: 2, message: 'out of memory' });
  assert.equal(failed.state.header, header);
  assert.equal(failed.state.previous, true);
  const alone = reduce(initialState, { kind: 'error', requestId: 1, message: 'no model' });
  assert.equal(alone.state.header, undefined);
  assert.equal(alone.state.previous, undefined);
});

test('the view draws the restored result whole: reset, then its summary', () => {
  let state = initialViewState(true);
  for (const input of firstRun) state = reduceView(state, { kind: 'inspection', input }).state;
  state = reduceView(state, { kind: 'inspection', input: { kind: 'progress', requestId: 2, stage: 'load' } }).state;
  const t = reduceView(state, {
    kind: 'inspection',
    input: { kind: 'error', requestId: 2, message: 'failed' },
  });
  assert.deepEqual(
    t.effects.map((e) => (e.kind === 'inspection' ? e.change : e.kind)),
    ['reset', 'summary'],
  );
  assert.ok(t.state.sections, 'the section layout is back too');
});
