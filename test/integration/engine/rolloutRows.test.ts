// Rollout rows on demand through onnxruntime's block product (runtime/rolloutBlockGraph.ts, via OrtRowKernel):
// on the Qwen2.5-0.5B head layout (14 heads over 2 KV heads, head dim 64), rows late in a 300-token input, against
// full float64 matrix products (test/helpers/referenceRollout.ts) of attention recomputed in float64 from the
// same Q and K, with a sliding window and soft-capping, fp32 and fp16 storage; then a loaded model's rollout
// rows from its kept Q and K against the rollout its graph computes, at a length where both exist.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRow } from '../../../src/engine/analysis/attentionEncoding';
import { rolloutRows } from '../../../src/engine/analysis/rolloutRows';
import { LoadedModel } from '../../../src/engine/runtime/loadedModel';
import { OrtRowKernel } from '../../../src/engine/runtime/rowKernel';
import { referenceRollout } from '../../helpers/referenceRollout';
import { type QKShape, syntheticLayer } from '../../helpers/syntheticQK';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../helpers/tinyModel';

const LAYERS = 3;
const QWEN: QKShape = { n: 300, heads: 14, kvHeads: 2, headDim: 64, slidingWindow: null, softcap: null };
const QUERIES = [299, 250, 181, 298];
const KERNEL = new OrtRowKernel();

const CASES: { label: string; shape: QKShape }[] = [
  { label: 'causal', shape: QWEN },
  { label: 'sliding window of 64', shape: { ...QWEN, slidingWindow: 64 } },
  { label: 'soft-capped at 3', shape: { ...QWEN, softcap: 3 } },
];

for (const c of CASES)
  test(`onnxruntime rollout rows equal the float64 rollout, Qwen2.5 layout, ${c.label}`, async () => {
    for (const half of [false, true]) {
      const layers = Array.from({ length: LAYERS }, (_, l) => syntheticLayer(c.shape, 71 + l, half));
      const reference = referenceRollout(
        layers.map((l) => l.probs),
        c.shape.n,
      );
      for (const blockRows of [undefined, 37]) {
        let worst = 0;
        for (const upTo of [0, LAYERS - 1]) {
          const rows = await rolloutRows(
            c.shape.n,
            layers.map((l) => l.kept),
            upTo,
            QUERIES,
            KERNEL,
            blockRows ? { blockRows } : {},
          );
          assert.ok(rows);
          rows.forEach((row, i) => {
            for (let j = 0; j < c.shape.n; j++)
              worst = Math.max(worst, Math.abs(row[j] - reference[upTo][QUERIES[i] * c.shape.n + j]));
          });
        }
        const tolerance = half ? 2e-3 : 1e-5;
        assert.ok(worst < tolerance, `${half ? 'fp16' : 'fp32'}, blocks ${blockRows ?? 'sized'}: max |Δ| ${worst}`);
      }
    }
  });

let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(() => removeTempDir(dir));

test("a loaded model's rollout rows from its kept Q and K equal its graph's rollout rows", async () => {
  const tiny = await writeTinyModel(`${dir}/model`, { layers: 3, maxPositions: 256 });
  const model = await LoadedModel.load(tiny.folder, { id: 'tiny', cacheDir: `${dir}/cache`, provider: 'cpu' });
  try {
    const ids = model.tokenizer.tokenize('The rollout composes every layer below. '.repeat(8)).ids.slice(0, 120);
    const n = ids.length;
    const run = await model.runTensors(ids, { probabilities: false });
    const exact = run.exact;
    assert.ok(exact);
    const queries = [n - 1, 60, 7];
    for (const [l, layer] of run.layers.entries()) {
      assert.equal(layer.rollout.encoding, 'dense-u8', 'the graph computed the rollout');
      const rows = await exact.rolloutRows(l, queries);
      assert.ok(rows);
      rows.forEach((row, i) => {
        const q = queries[i];
        const graph = decodeRow(layer.rollout, q);
        // The graph's rows travel as uint8 of the row's maximum: half a step, plus the kept Q's fp16.
        const step = layer.rollout.rowScale[q] / 255;
        for (let j = 0; j < n; j++)
          assert.ok(
            Math.abs(row[j] - graph[j]) <= step / 2 + 2e-3,
            `layer ${l} row ${q} key ${j}: ${row[j]} vs ${graph[j]}`,
          );
      });
    }
  } finally {
    await model.dispose();
  }
});
