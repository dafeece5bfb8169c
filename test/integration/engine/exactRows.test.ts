// Rows on demand: the post-rotary Q and K the engine finds in real export styles (torch Softmax exports, the
// builder's GroupQueryAttention with packed QKV and rotary inside the op, q4 and fp16), kept in fp32 or fp16,
// give every row of every layer and head (and the head mean) equal to a float64 forward pass's, through the plain
// loops (row) and through onnxruntime's row kernel (rowAsync, what the worker answers a hover with).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { planAttentionTap } from '../../../src/engine/graph/attentionTap';
import { decodeModel, encodeModel, valueElemType, valueShape } from '../../../src/engine/graph/onnxGraph';
import type { SiteStorage } from '../../../src/engine/graph/onnxSites';
import { exposeSites, findAttentionSites } from '../../../src/engine/graph/onnxSites';
import type { RowKernel } from '../../../src/engine/analysis/exactRows';
import { ExactRows } from '../../../src/engine/analysis/exactRows';
import { decodeRow } from '../../../src/engine/analysis/attentionEncoding';
import { OrtRowKernel } from '../../../src/engine/runtime/rowKernel';
import { prefillFeeds } from '../../../src/engine/runtime/prefillFeeds';
import type { ExportOptions } from '../../helpers/exportStyleGraph';
import { buildExportGraph } from '../../helpers/exportStyleGraph';
import type { DecoderWeights } from '../../helpers/referenceDecoder';
import {
  halfDecoder,
  mapProjections,
  quantizeQ4,
  randomDecoder,
  referenceForward,
} from '../../helpers/referenceDecoder';
import { LoadedModel } from '../../../src/engine/runtime/loadedModel';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../helpers/tinyModel';

const IDS = [3, 17, 5, 42, 8, 17, 5, 42, 1, 60, 2, 9, 33, 17, 5, 42, 8, 11, 2, 50];
const N = IDS.length;
const SHAPE = { vocabSize: 64, hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 96, maxPositions: 64 };
const HD = SHAPE.hidden / SHAPE.heads;

function effectiveWeights(w: DecoderWeights, o: ExportOptions): DecoderWeights {
  const q = o.q4 ? mapProjections(w, (m, K, N_) => quantizeQ4(m, K, N_).dequantized) : w;
  return o.fp16 ? halfDecoder(q) : q;
}

async function exactRowsOf(
  bytes: Uint8Array,
  kvHeads: number,
  storage: SiteStorage,
  kernel: RowKernel | null = null,
): Promise<ExactRows | null> {
  const model = decodeModel(bytes);
  const plan = planAttentionTap(model, SHAPE.layers, 'fixture.onnx');
  const found = findAttentionSites(model, plan.outputNames, { heads: SHAPE.heads, kvHeads, headDim: HD });
  if (!found) return null;
  const sites = exposeSites(model, found, storage);
  const session = await ort.InferenceSession.create(encodeModel(model));
  try {
    const initializers = new Set((model.graph?.initializer ?? []).map((t) => t.name));
    const inputs = (model.graph?.input ?? [])
      .filter((i) => !initializers.has(i.name))
      .map((i) => ({ name: i.name ?? '', elemType: valueElemType(i), shape: valueShape(i) }));
    const feeds = prefillFeeds(ort, inputs, IDS, { kvHeads, headDim: HD, metadata: session.inputMetadata });
    const out = await session.run(
      feeds,
      sites.flatMap((s) => [s.q, s.k]),
    );
    const data = (name: string): Uint16Array | Float32Array => out[name].data as Uint16Array | Float32Array;
    return new ExactRows(
      N,
      sites.map((s) => ({ ...s, q: data(s.q), k: data(s.k) })),
      kernel,
    );
  } finally {
    await session.release();
  }
}

type RowOf = (layer: number, head: number | null, query: number) => Float32Array | Promise<Float32Array>;

/** Worst |Δ| over every row of every layer and head, and over the head means. */
async function worstError(rows: ExactRows, reference: readonly Float64Array[], rowOf: RowOf): Promise<number> {
  let worst = 0;
  for (let l = 0; l < SHAPE.layers; l++) {
    const heads = rows.heads(l);
    for (let q = 0; q < N; q++) {
      const mean = new Float64Array(N);
      for (let h = 0; h < heads; h++) {
        const row = await rowOf(l, h, q);
        for (let j = 0; j < N; j++) {
          const expected = reference[l][h * N * N + q * N + j];
          mean[j] += expected / heads;
          worst = Math.max(worst, Math.abs(row[j] - expected));
        }
      }
      const got = await rowOf(l, null, q);
      for (let j = 0; j < N; j++) worst = Math.max(worst, Math.abs(got[j] - mean[j]));
    }
  }
  return worst;
}

const KERNEL = new OrtRowKernel();

const CASES: { label: string; o: ExportOptions; kvHeads: number; fp32: number; fp16: number }[] = [
  { label: 'torch-style Softmax export (repeat_kv)', o: { style: 'torch' }, kvHeads: 2, fp32: 1e-5, fp16: 2e-3 },
  { label: 'torch-style, one KV head per head', o: { style: 'torch' }, kvHeads: 4, fp32: 1e-5, fp16: 2e-3 },
  {
    label: 'builder GroupQueryAttention (packed QKV, do_rotary)',
    o: { style: 'gqa' },
    kvHeads: 2,
    fp32: 1e-5,
    fp16: 2e-3,
  },
  { label: 'builder GQA, q4 MatMulNBits', o: { style: 'gqa', q4: true }, kvHeads: 2, fp32: 1e-5, fp16: 2e-3 },
  // An fp16 export computes Q and K in fp16 itself: its own tolerance (the tap's) bounds the rows.
  { label: 'builder GQA in fp16', o: { style: 'gqa', fp16: true }, kvHeads: 2, fp32: 5e-3, fp16: 5e-3 },
  { label: 'torch-style fp16 export', o: { style: 'torch', fp16: true }, kvHeads: 2, fp32: 5e-3, fp16: 5e-3 },
];

for (const c of CASES) {
  test(`${c.label}: exact rows from the kept Q and K equal the float64 forward pass`, async () => {
    const weights = randomDecoder({ ...SHAPE, kvHeads: c.kvHeads }, 11);
    const bytes = buildExportGraph(weights, c.o);
    const reference = referenceForward(effectiveWeights(weights, c.o), IDS).probs;
    for (const [storage, tolerance] of [
      ['float32', c.fp32],
      ['float16', c.fp16],
    ] as const) {
      const rows = await exactRowsOf(bytes, c.kvHeads, storage);
      assert.ok(rows, 'sites found');
      const worst = await worstError(rows, reference, (l, h, q) => rows.row(l, h, q));
      assert.ok(worst < tolerance, `${storage}: max |Δp| ${worst} ≥ ${tolerance}`);
      const viaKernel = await exactRowsOf(bytes, c.kvHeads, storage, KERNEL);
      assert.ok(viaKernel, 'sites found');
      const kernelWorst = await worstError(viaKernel, reference, (l, h, q) => viaKernel.rowAsync(l, h, q));
      assert.ok(kernelWorst < tolerance, `${storage}, row kernel: max |Δp| ${kernelWorst} ≥ ${tolerance}`);
    }
  });
}

test('graphs whose Q and K cannot be found get no sites: MultiHeadAttention, a merged If decoder', async () => {
  for (const o of [{ style: 'mha' }, { style: 'torch', merged: true }] as ExportOptions[]) {
    const bytes = buildExportGraph(randomDecoder({ ...SHAPE, kvHeads: o.style === 'mha' ? 4 : 2 }), o);
    assert.equal(await exactRowsOf(bytes, o.style === 'mha' ? 4 : 2, 'float16'), null, o.style);
  }
});

let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(() => removeTempDir(dir));

test('a loaded model keeps Q (fp16) and K after the run; its rows equal the tapped probabilities', async () => {
  const tiny = await writeTinyModel(`${dir}/model`, { layers: 2, maxPositions: 256 });
  const model = await LoadedModel.load(tiny.folder, { id: 'tiny', cacheDir: `${dir}/cache`, provider: 'cpu' });
  try {
    assert.ok(model.hasExactRows);
    const ids = model.tokenizer.tokenize('Rows on demand read the kept queries and keys. '.repeat(4)).ids.slice(0, 90);
    const run = await model.runTensors(ids);
    const exact = run.exact;
    assert.ok(exact);
    const n = ids.length;
    run.layers.forEach((layer, l) => {
      const data = layer.data;
      assert.ok(data);
      for (const q of [0, 1, 45, n - 1])
        for (let h = 0; h < layer.heads; h++) {
          const row = exact.row(l, h, q);
          for (let j = 0; j < n; j++) {
            const e = Math.abs(row[j] - data[h * n * n + q * n + j]);
            assert.ok(e < 2e-3, `layer ${l} head ${h} row ${q} key ${j}: ${row[j]} vs ${data[h * n * n + q * n + j]}`);
          }
        }
    });
    assert.throws(() => exact.row(0, 99, 0), RangeError);
    assert.throws(() => exact.row(0, 0, n), RangeError);
  } finally {
    await model.dispose();
  }
});

test('rows on demand: above the dense limit no head rows are computed in advance; the exact rows stay', async () => {
  const tiny = await writeTinyModel(`${dir}/long`, { layers: 2, maxPositions: 700 });
  const model = await LoadedModel.load(tiny.folder, { id: 'long', cacheDir: `${dir}/cache`, provider: 'cpu' });
  try {
    const ids = model.tokenizer.tokenize('Many words, and then some more words. '.repeat(60)).ids.slice(0, 600);
    const eager = await model.runTensors(ids, { probabilities: false });
    const lazy = await model.runTensors(ids, { probabilities: false, headRows: false });
    eager.layers.forEach((layer, l) => {
      assert.equal(layer.rows.encoding, 'topk-u8');
      assert.ok(layer.rows.k > 0);
      const skipped = lazy.layers[l].rows;
      assert.equal(skipped.k, 0);
      assert.equal(skipped.weights.length, 0);
      assert.deepEqual(lazy.layers[l].received, layer.received, 'the statistics do not change');
      assert.equal(lazy.layers[l].rollout.k, 0, 'the rollout comes on demand too');
      // The strongest key of a row on demand is the one the eager top-k put first.
      const exact = lazy.exact?.row(l, 1, 599);
      assert.ok(exact);
      const indices = layer.rows.indices;
      assert.ok(indices);
      let best = 0;
      for (let j = 1; j < exact.length; j++) if (exact[j] > exact[best]) best = j;
      assert.equal(best, indices[(1 * 600 + 599) * layer.rows.k]);
    });
    // The rollout rows on demand equal the eager graph's top-k rollout rows at their keys (uint8 of the row max).
    for (const [l, layer] of eager.layers.entries()) {
      const queries = [599, 300];
      const rows = await lazy.exact?.rolloutRows(l, queries);
      assert.ok(rows);
      rows.forEach((row, i) => {
        const graph = decodeRow(layer.rollout, queries[i]);
        const step = layer.rollout.rowScale[queries[i]] / 255;
        const keys = layer.rollout.indices?.subarray(queries[i] * layer.rollout.k, (queries[i] + 1) * layer.rollout.k);
        for (const key of keys ?? [])
          if (key !== 0xffff)
            assert.ok(Math.abs(row[key] - graph[key]) <= step / 2 + 2e-3, `layer ${l} row ${queries[i]} key ${key}`);
      });
    }
  } finally {
    await model.dispose();
  }
});
