// Rollout rows on demand (analysis/rolloutRows.ts) through the plain block product, against full float64 matrix
// products (test/helpers/referenceRollout.ts) of attention recomputed in float64 from the same Q and K: GQA,
// a sliding window, soft-capping, fp32 and fp16 storage, blocks smaller than the input; then progress,
// cancellation and the inputs it refuses. The onnxruntime block product is checked in test/integration/engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plainRolloutBlock, rolloutRows } from '../../../../src/engine/analysis/rolloutRows';
import { referenceRollout } from '../../../helpers/referenceRollout';
import { type QKShape, syntheticLayer } from '../../../helpers/syntheticQK';

const LAYERS = 3;
const BASE: QKShape = { n: 40, heads: 4, kvHeads: 2, headDim: 16, slidingWindow: null, softcap: null };

function worstError(shape: QKShape, half: boolean, queries: number[], blockRows: number): Promise<number> {
  const layers = Array.from({ length: LAYERS }, (_, l) => syntheticLayer(shape, 31 + l, half));
  const reference = referenceRollout(
    layers.map((l) => l.probs),
    shape.n,
  );
  return (async () => {
    let worst = 0;
    for (let upTo = 0; upTo < LAYERS; upTo++) {
      const rows = await rolloutRows(
        shape.n,
        layers.map((l) => l.kept),
        upTo,
        queries,
        null,
        { blockRows },
      );
      assert.ok(rows);
      rows.forEach((row, i) => {
        let sum = 0;
        for (let j = 0; j < shape.n; j++) {
          worst = Math.max(worst, Math.abs(row[j] - reference[upTo][queries[i] * shape.n + j]));
          sum += row[j];
        }
        assert.ok(Math.abs(sum - 1) < 1e-4, `a rollout row sums to 1 (${sum})`);
        for (let j = queries[i] + 1; j < shape.n; j++) assert.equal(row[j], 0, 'nothing after the query');
      });
    }
    return worst;
  })();
}

const CASES: { label: string; shape: QKShape }[] = [
  { label: 'causal, 2 heads per KV head', shape: BASE },
  { label: 'one KV head for all', shape: { ...BASE, kvHeads: 1 } },
  { label: 'sliding window of 6', shape: { ...BASE, slidingWindow: 6 } },
  { label: 'soft-capped at 2', shape: { ...BASE, softcap: 2 } },
];

for (const c of CASES)
  test(`rollout rows equal the float64 rollout: ${c.label}`, async () => {
    for (const blockRows of [7, 64]) {
      const queries = [39, 5, 20, 38];
      const fp32 = await worstError(c.shape, false, queries, blockRows);
      assert.ok(fp32 < 1e-5, `fp32, blocks of ${blockRows}: max |Δ| ${fp32}`);
      const fp16 = await worstError(c.shape, true, queries, blockRows);
      assert.ok(fp16 < 2e-3, `fp16, blocks of ${blockRows}: max |Δ| ${fp16}`);
    }
  });

test('progress comes per layer, from the top; cancelling stops with null', async () => {
  const layers = Array.from({ length: LAYERS }, (_, l) => syntheticLayer(BASE, 5 + l, true).kept);
  const seen: string[] = [];
  const rows = await rolloutRows(BASE.n, layers, 2, [30], null, {
    onProgress: (p) => seen.push(`${p.done}/${p.of}`),
  });
  assert.ok(rows);
  assert.deepEqual(seen, ['1/3', '2/3', '3/3']);
  let checks = 0;
  const cancelled = await rolloutRows(BASE.n, layers, 2, [30], null, { blockRows: 4, isCancelled: () => ++checks > 3 });
  assert.equal(cancelled, null);
});

test('a kernel block product is used where the kernel has one', async () => {
  const layers = Array.from({ length: 2 }, (_, l) => syntheticLayer(BASE, 9 + l, false).kept);
  let calls = 0;
  const kernel = {
    meanRow: () => Promise.reject(new Error('not used')),
    rolloutBlock: (...args: Parameters<typeof plainRolloutBlock>) => {
      calls++;
      return plainRolloutBlock(...args);
    },
  };
  const viaKernel = await rolloutRows(BASE.n, layers, 1, [12, 39], kernel, { blockRows: 10 });
  const plain = await rolloutRows(BASE.n, layers, 1, [12, 39], null, { blockRows: 10 });
  assert.deepEqual(viaKernel, plain);
  // Layer 1 reads only the blocks holding rows 12 and 39 (V is one-hot there), layer 0 all four.
  assert.equal(calls, 2 + 4);
});

test('refuses a layer or query outside the inspection and repeated queries; no queries, no rows', async () => {
  const layers = [syntheticLayer(BASE, 1, false).kept];
  await assert.rejects(rolloutRows(BASE.n, layers, 1, [0], null), RangeError);
  await assert.rejects(rolloutRows(BASE.n, layers, 0, [BASE.n], null), RangeError);
  await assert.rejects(rolloutRows(BASE.n, layers, 0, [1.5], null), RangeError);
  await assert.rejects(rolloutRows(BASE.n, layers, 0, [3, 3], null), RangeError);
  assert.deepEqual(await rolloutRows(BASE.n, layers, 0, [], null), []);
});
