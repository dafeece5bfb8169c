// The view's one state machine: hover, pin, the controls and the hover's debounced trip to the editor as
// state and events, with the effects the views carry out; and the sections card's figures against a
// recomputation from the dense matrix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InspectionHeader } from '../../../src/shared/protocol';
import {
  initialViewState,
  reduceView,
  type ViewEffect,
  type ViewEvent,
  type ViewState,
} from '../../../webview/model/viewState';
import { sectionFigures, sectionLayout } from '../../../webview/model/sectionFigures';
import { syntheticResult } from '../../helpers/syntheticResult';

const result = syntheticResult('# Role\nAnswer briefly.\n\n# Question\nWhat is the code?', { layers: 2, heads: 2 });
// A result is a header with its layers and summary: as a header event it starts the inspection.
const header: InspectionHeader = result;

function run(events: ViewEvent[], from: ViewState = initialViewState(true)): { state: ViewState; effects: string[] } {
  let state = from;
  const effects: string[] = [];
  for (const event of events) {
    const t = reduceView(state, event);
    state = t.state;
    effects.push(t.effects.map(describe).join(' '));
  }
  return { state, effects };
}

function describe(effect: ViewEffect): string {
  switch (effect.kind) {
    case 'inspection':
      return `inspection:${effect.change}`;
    case 'draw-focus':
      return effect.soon ? 'focus-soon' : 'focus';
    case 'scroll-to':
      return `scroll:${effect.index}`;
    case 'tell-editor':
      return `tell:${effect.reveal}`;
    default:
      return effect.kind;
  }
}

const loaded = run([{ kind: 'inspection', input: { kind: 'header', requestId: 1, header } }]).state;

test('a header resets the focus, keeps the controls the model allows and splits the sections once', () => {
  const from = { ...initialViewState(true), pinned: 3, hover: 2, controls: { ...loaded.controls, layer: 5, head: 1 } };
  const { state, effects } = run([{ kind: 'inspection', input: { kind: 'header', requestId: 1, header } }], from);
  assert.deepEqual(effects, ['inspection:reset']);
  assert.equal(state.pinned, null);
  assert.equal(state.hover, null);
  assert.equal(state.controls.layer, 'all', 'layer 5 does not exist in a 2-layer model');
  assert.equal(state.controls.head, 1, 'head 1 exists');
  assert.deepEqual(
    state.sections?.units.map((u) => u.label),
    sectionLayout(header.text, header.tokens).units.map((u) => u.label),
  );
  assert.ok((state.sections?.units.length ?? 0) >= 2);
});

test('a hover draws soon and waits for the pointer to rest before it tells the editor', () => {
  const { state, effects } = run(
    [{ kind: 'hover', index: 4 }, { kind: 'hover-rested' }, { kind: 'hover-rested' }],
    loaded,
  );
  assert.deepEqual(effects, ['focus-soon wait-for-rest', 'focus tell:false', '']);
  assert.equal(state.hover, 4);
  assert.equal(state.hoverToEditor, 'idle');
});

test('without an editor (the HTML report) a hover only draws', () => {
  const report = { ...loaded, editor: false };
  assert.deepEqual(run([{ kind: 'hover', index: 4 }, { kind: 'hover-rested' }], report).effects, ['focus-soon', '']);
});

test('a pin wins over the hover, cancels a waiting hover and reveals the token in the editor', () => {
  const { state, effects } = run(
    [
      { kind: 'hover', index: 4 },
      { kind: 'toggle-pin', index: 6 },
      { kind: 'hover-rested' },
      { kind: 'hover', index: 2 },
      { kind: 'toggle-pin', index: 6 },
    ],
    loaded,
  );
  assert.deepEqual(effects, ['focus-soon wait-for-rest', 'focus scroll:6 tell:true', '', '', 'focus tell:true']);
  assert.equal(state.pinned, null, 'a second click on the pinned token unpins it');
  assert.equal(state.hover, 2);
});

test('the editor cursor pins without revealing; Escape unpins; a matrix cell pins its query or key', () => {
  assert.deepEqual(run([{ kind: 'focus-token', index: 3 }], loaded).effects, ['focus scroll:3 tell:false']);
  assert.deepEqual(run([{ kind: 'focus-token', index: 999 }], loaded).effects, [''], 'past the tokens: ignored');
  assert.deepEqual(run([{ kind: 'escape' }], loaded).effects, [''], 'nothing pinned: nothing to do');
  const pinned = run([{ kind: 'pin', index: 5 }], loaded).state;
  const cleared = run([{ kind: 'escape' }], pinned);
  assert.equal(cleared.state.pinned, null);
  assert.deepEqual(cleared.effects, ['focus tell:false'], 'nothing focused: nothing to reveal');
  assert.equal(run([{ kind: 'pick-cell', query: 7, key: 2 }], loaded).state.pinned, 7);
  const by = run([{ kind: 'controls', change: { direction: 'by' } }], loaded);
  assert.deepEqual(by.effects, ['draw-controls focus-soon rebuild-matrix']);
  assert.equal(run([{ kind: 'pick-cell', query: 7, key: 2 }], by.state).state.pinned, 2);
  assert.deepEqual(run([{ kind: 'controls', change: { layer: 1 } }], loaded).effects, ['draw-controls rebuild-matrix']);
});

test('a finished result draws as a reset and a summary', () => {
  const { state, effects } = run([{ kind: 'result', result }], initialViewState(false));
  assert.deepEqual(effects, ['inspection:reset inspection:summary']);
  assert.equal(state.inspection.phase, 'done');
});

test("the sections' received shares and matrix agree with sums over the dense matrix", () => {
  const n = header.tokens.length;
  const matrix = new Float32Array(n * n);
  for (let q = 0; q < n; q++) for (let k = 0; k <= q; k++) matrix[q * n + k] = 1 / (q + 1);
  const layout = sectionLayout(header.text, header.tokens);
  const figures = sectionFigures(layout, matrix, n);
  layout.units.forEach((_, u) => {
    let expected = 0;
    for (let k = 0; k < n; k++)
      if (layout.owner[k] === u) for (let q = k; q < n; q++) expected += matrix[q * n + k] / n;
    assert.ok(Math.abs(figures.received[u] - expected) < 1e-9, `unit ${u}`);
  });
  assert.equal(figures.receivedMax, Math.max(...figures.received));
  // Each row of the section matrix is where that section's queries look: it sums to the share of their
  // attention that lands inside a section.
  const d = layout.units.length;
  for (let a = 0; a < d; a++) {
    const row = Array.from(figures.matrix?.subarray(a * d, a * d + d) ?? []);
    const sum = row.reduce((x, y) => x + y, 0);
    assert.ok(sum > 0 && sum <= 1 + 1e-9, `row ${a}: ${sum}`);
  }
  assert.equal(figures.profile?.deciles.length, 10);
});
