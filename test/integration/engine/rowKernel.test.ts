// The onnxruntime row kernel on what the export tests do not reach: the Qwen2.5-0.5B head layout (14 heads over
// 2 KV heads, head dim 64), a sliding window, soft-capping, Q and K in fp16 (as the inspection keeps them: the
// kernel's graph casts the fp16 keys itself) and in fp32, and the rows at the sequence's edges; each row is
// checked against a float64 softmax over the same Q and K written out here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerQK } from '../../../src/engine/analysis/exactRows';
import { ExactRows } from '../../../src/engine/analysis/exactRows';
import { OrtRowKernel } from '../../../src/engine/runtime/rowKernel';
import { fromHalfBits, toHalfBits } from '../../helpers/referenceDecoder';
import { seededRandom } from '../../helpers/onnxBuilder';

const N = 300;
const HEADS = 14;
const KV_HEADS = 2;
const D = 64;

function layer(seed: number, half: boolean, window: number | null, softcap: number | null): LayerQK {
  const random = seededRandom(seed);
  // Scores of several units, so the softmax is far from flat and the cap bites.
  const q = Float32Array.from({ length: HEADS * N * D }, () => (random() * 2 - 1) * 1.5);
  const k = Float32Array.from({ length: KV_HEADS * N * D }, () => (random() * 2 - 1) * 1.5);
  return {
    q: half ? Uint16Array.from(q, toHalfBits) : q,
    k: half ? Uint16Array.from(k, toHalfBits) : k,
    heads: HEADS,
    kvHeads: KV_HEADS,
    headDim: D,
    scale: 1 / Math.sqrt(D),
    slidingWindow: window,
    softcap,
  };
}

/** Row `query` of `head` in float64, from the definition: scale, cap, window, causal softmax. */
function reference(l: LayerQK, head: number, query: number): Float64Array {
  const qAt = (c: number): number => {
    const v = l.q[(head * N + query) * D + c];
    return l.q instanceof Uint16Array ? fromHalfBits(v) : v;
  };
  const kAt = (at: number): number => (l.k instanceof Uint16Array ? fromHalfBits(l.k[at]) : l.k[at]);
  const kv = Math.floor(head / (HEADS / KV_HEADS));
  const first = l.slidingWindow === null ? 0 : Math.max(0, query - l.slidingWindow + 1);
  const out = new Float64Array(N);
  let max = -Infinity;
  for (let j = first; j <= query; j++) {
    let s = 0;
    for (let c = 0; c < D; c++) s += qAt(c) * kAt((kv * N + j) * D + c);
    s *= l.scale;
    if (l.softcap !== null) s = l.softcap * Math.tanh(s / l.softcap);
    out[j] = s;
    max = Math.max(max, s);
  }
  let sum = 0;
  for (let j = first; j <= query; j++) sum += out[j] = Math.exp(out[j] - max);
  for (let j = first; j <= query; j++) out[j] /= sum;
  return out;
}

const CASES = [
  { label: 'fp32 Q and K, causal', half: false, window: null, softcap: null, tolerance: 1e-5 },
  { label: 'fp16 Q and K, causal', half: true, window: null, softcap: null, tolerance: 1e-5 },
  { label: 'fp32 Q and K, sliding window of 64', half: false, window: 64, softcap: null, tolerance: 1e-5 },
  { label: 'fp32 Q and K, soft-capped at 1.5', half: false, window: null, softcap: 1.5, tolerance: 1e-5 },
  { label: 'fp16 Q and K, window and cap', half: true, window: 100, softcap: 2, tolerance: 1e-5 },
];

const kernel = new OrtRowKernel();

for (const c of CASES) {
  test(`row kernel, ${c.label}: head rows and head means equal a float64 softmax`, async () => {
    const l = layer(7, c.half, c.window, c.softcap);
    const rows = new ExactRows(N, [l], kernel);
    let worst = 0;
    let mass = 0;
    for (const query of [0, 1, 63, 64, 150, N - 1]) {
      const expectedMean = new Float64Array(N);
      for (let head = 0; head < HEADS; head++) {
        const expected = reference(l, head, query);
        for (let j = 0; j < N; j++) expectedMean[j] += expected[j] / HEADS;
        const got = await rows.rowAsync(0, head, query);
        assert.equal(got.length, N);
        for (let j = 0; j < N; j++) worst = Math.max(worst, Math.abs(got[j] - expected[j]));
      }
      const mean = await rows.rowAsync(0, null, query);
      for (let j = 0; j < N; j++) worst = Math.max(worst, Math.abs(mean[j] - expectedMean[j]));
      for (let j = query + 1; j < N; j++) assert.equal(mean[j], 0, `key ${j} after query ${query}`);
      if (c.window !== null)
        for (let j = 0; j <= query - c.window; j++) assert.equal(mean[j], 0, `key ${j} outside the window`);
      mass = Math.max(mass, ...mean);
    }
    assert.ok(worst < c.tolerance, `max |Δp| ${worst} ≥ ${c.tolerance}`);
    assert.ok(mass > 0.02, 'the rows are not flat (the comparison means something)');
  });
}

test('row kernel: rows outside the inspection are RangeErrors, as the plain rows', async () => {
  const rows = new ExactRows(N, [layer(3, true, null, null)], kernel);
  await assert.rejects(rows.rowAsync(0, HEADS, 0), RangeError);
  await assert.rejects(rows.rowAsync(0, null, N), RangeError);
  await assert.rejects(rows.rowAsync(1, null, 0), RangeError);
});

test('row kernel: rows asked at once are answered each with its own window', async () => {
  const l = layer(5, false, 32, null);
  const rows = new ExactRows(N, [l], kernel);
  const queries = [10, 100, 200, N - 1];
  const got = await Promise.all(queries.map((q) => rows.rowAsync(0, 3, q)));
  got.forEach((row, i) => {
    const expected = reference(l, 3, queries[i]);
    for (let j = 0; j < N; j++) assert.ok(Math.abs(row[j] - expected[j]) < 1e-5, `query ${queries[i]} key ${j}`);
  });
});
