// The panel's "Attention × value norm" mode: each head's row weighed by the keys' ‖v_j W_O^h‖ and
// renormalized (worked out by hand here), and the reducer's mode switch, which redraws a different matrix —
// or falls back to attention when the inspection's layers came without norms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerAttention } from '../../../src/shared/protocol';
import { buildMatrix, type Selection } from '../../../webview/model/aggregate';
import { initialViewState, reduceView, type ViewState } from '../../../webview/model/viewState';
import type { StateInput } from '../../../webview/model/inspectionState';
import { syntheticResult } from '../../helpers/syntheticResult';
import { denseRows, HEAD0, HEAD1 } from '../../helpers/denseRows';

const dense = denseRows;

const n = 3;
const h0 = HEAD0;
const h1 = HEAD1;
const layer: LayerAttention = {
  layer: 0,
  heads: dense(n, [...h0, ...h1]),
  rollout: dense(n, [
    [1, 0, 0],
    [0.75, 0.25, 0],
    [0.4, 0.25, 0.35],
  ]),
  received: new Float32Array([0.7, 0.2, 0.1]),
  headSummaries: [],
  // Head 0's keys write 1, 2, 1; head 1's 1, 1, 4.
  valueNorms: Float32Array.of(1, 2, 1, 1, 1, 4),
};
const sel = (over: Partial<Selection>): Selection => ({
  layer: 0,
  head: 'mean',
  mode: 'attention',
  hideSink: false,
  ...over,
});
const row = (m: Float32Array | null, q: number): number[] => Array.from(m?.subarray(q * n, q * n + n) ?? []);
const close = (a: number[], b: number[]): void =>
  b.forEach((x, i) => assert.ok(Math.abs(a[i] - x) < 0.01, `key ${i}: ${a[i]} vs ${x}`));

test('attention × value norm weighs each head by its keys’ norms and renormalizes each row', () => {
  // Head 0, query 2: [0.2·1, 0.3·2, 0.5·1] / 1.3; head 1: [0.6·1, 0.2·1, 0.2·4] / 1.6.
  const head0 = [0.2 / 1.3, 0.6 / 1.3, 0.5 / 1.3];
  const head1 = [0.6 / 1.6, 0.2 / 1.6, 0.8 / 1.6];
  close(row(buildMatrix([layer], n, 2, sel({ mode: 'value-norm', head: 0 })), 2), head0);
  close(row(buildMatrix([layer], n, 2, sel({ mode: 'value-norm', head: 1 })), 2), head1);
  close(
    row(buildMatrix([layer], n, 2, sel({ mode: 'value-norm' })), 2),
    head0.map((x, i) => (x + head1[i]) / 2),
  );
  close(
    row(buildMatrix([layer], n, 2, sel({ mode: 'value-norm', head: 'max' })), 2),
    head0.map((x, i) => Math.max(x, head1[i])),
  );
  // Query 1 of head 0: [0.5·1, 0.5·2] / 1.5 — the norm moves weight to key 1.
  close(row(buildMatrix([layer], n, 2, sel({ mode: 'value-norm', head: 0 })), 1), [1 / 3, 2 / 3, 0]);
  close(row(buildMatrix([layer], n, 2, sel({ head: 0 })), 1), [0.5, 0.5, 0]);
});

function run(state: ViewState, inputs: StateInput[]): ViewState {
  for (const input of inputs) state = reduceView(state, { kind: 'inspection', input }).state;
  return state;
}

test('switching the mode to attention × value norm redraws a different matrix', () => {
  const result = syntheticResult('one two three', { layers: 1, heads: 2 });
  const header = { ...result, tokens: result.tokens.slice(0, n) };
  let state = run(initialViewState(true), [
    { kind: 'header', requestId: 1, header },
    { kind: 'layer', requestId: 1, layer },
  ]);
  const before = buildMatrix(state.inspection.layers, n, 2, { ...state.controls, layer: 0 });
  const t = reduceView(state, { kind: 'controls', change: { mode: 'value-norm' } });
  assert.deepEqual(
    t.effects.map((e) => e.kind),
    ['draw-controls', 'rebuild-matrix'],
  );
  state = t.state;
  assert.equal(state.controls.mode, 'value-norm');
  const after = buildMatrix(state.inspection.layers, n, 2, { ...state.controls, layer: 0 });
  assert.ok(Math.abs(row(after, 2)[2] - row(before, 2)[2]) > 0.05, 'the drawn weights change with the mode');
});

test('without value norms (a graph that cannot give them) the mode falls back to attention', () => {
  const result = syntheticResult('one two three', { layers: 1, heads: 2 });
  const header = { ...result, tokens: result.tokens.slice(0, n) };
  const { valueNorms: _dropped, ...plain } = layer;
  let state = reduceView(initialViewState(true), { kind: 'controls', change: { mode: 'value-norm' } }).state;
  assert.equal(state.controls.mode, 'value-norm', 'chosen before any layer arrived');
  state = run(state, [{ kind: 'header', requestId: 1, header }]);
  const t = reduceView(state, { kind: 'inspection', input: { kind: 'layer', requestId: 1, layer: plain } });
  assert.equal(t.state.controls.mode, 'attention');
  assert.ok(t.effects.some((e) => e.kind === 'draw-controls'));
  const again = reduceView(t.state, { kind: 'controls', change: { mode: 'value-norm' } });
  assert.equal(again.state.controls.mode, 'attention');
});
