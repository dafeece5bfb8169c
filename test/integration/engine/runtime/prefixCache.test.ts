// The prefix cache on the embedded model (graph/prefixCache.ts, runtime/prefixScoring.ts): ablations scored from
// the whole prompt's keys and values equal whole runs of the untouched export (float64 log-softmax here), one
// by one and without the cache; the whole prompt's pass gives the attention the tapped graph's dense
// probabilities give; graphs that already take a cache are left alone.
import { referenceAnswerLogProbs } from '../../../helpers/referenceLogProbs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { LoadedModel } from '../../../../src/engine/runtime/loadedModel';
import { AttributionCancelled, LogitsSession } from '../../../../src/engine/runtime/logitsSession';
import type { ScoredSequence } from '../../../../src/engine/runtime/logitsSession';
import { decodeModel } from '../../../../src/engine/graph/onnxGraph';
import { addPrefixCache } from '../../../../src/engine/graph/prefixCache';
import { LIBRARY_PARAGRAPHS as PARAGRAPHS, LIBRARY_PROMPT as PROMPT } from '../../../helpers/libraryPrompt';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../../helpers/tinyModel';

const MODEL = path.resolve(__dirname, '..', '..', '..', '..', 'models', 'pa-mini-llama');
let dir = '';
let loaded: LoadedModel;
let cached: LogitsSession;
let plain: LogitsSession;
let raw: ort.InferenceSession;

before(async () => {
  dir = await makeTempDir();
  loaded = await LoadedModel.load(MODEL, { id: 'pa-mini-llama', cacheDir: dir, provider: 'cpu' });
  cached = await LogitsSession.open(MODEL, loaded.config, { provider: 'cpu' });
  plain = await LogitsSession.open(MODEL, loaded.config, { provider: 'cpu', noPrefixCache: true });
  raw = await ort.InferenceSession.create(path.join(MODEL, 'onnx', 'model.onnx'));
});

after(async () => {
  await cached?.dispose();
  await plain?.dispose();
  await loaded?.dispose();
  await raw?.release();
  await removeTempDir(dir);
});

/** Per answer token, log p from the untouched graph run on the whole sequence, batch 1, float64 log-softmax. */
function reference(seq: ScoredSequence): Promise<number[]> {
  return referenceAnswerLogProbs(raw, seq.ids, seq.answerStart);
}

/** The prompt + answer, and the same with each paragraph's tokens left out (the ablations), and BOS alone. */
function sequences(): { whole: ScoredSequence; ablated: ScoredSequence[]; bare: ScoredSequence } {
  const { ids, tokens } = loaded.tokenizer.tokenize(`${PROMPT} XK-4471`);
  const answerStart = tokens.findIndex((t) => t.end > PROMPT.length);
  const answer = ids.slice(answerStart);
  const ablated = PARAGRAPHS.map((paragraph) => {
    const from = PROMPT.indexOf(paragraph);
    const to = from + paragraph.length;
    const kept = ids
      .slice(0, answerStart)
      .filter((_, i) => tokens[i].special || tokens[i].end <= from || tokens[i].start >= to);
    return { ids: [...kept, ...answer], answerStart: kept.length };
  });
  return { whole: { ids, answerStart }, ablated, bare: { ids: [ids[0], ...answer], answerStart: 1 } };
}

test('ablations scored from the shared prefix equal whole runs of the untouched graph', async () => {
  assert.equal(cached.prefixCache, true);
  assert.equal(plain.prefixCache, false);
  const { whole, ablated, bare } = sequences();
  const all = [whole, ...ablated, bare];
  const runs: number[] = [];
  const fromPrefix = await cached.answerLogProbs(all, (done) => runs.push(done));
  assert.deepEqual(
    runs,
    all.map((_, i) => i + 1),
    'one run per sequence, progress after each',
  );
  const withoutCache = await plain.answerLogProbs(all);
  for (let s = 0; s < all.length; s++) {
    const expected = await reference(all[s]);
    assert.equal(fromPrefix[s].length, expected.length);
    for (let j = 0; j < expected.length; j++) {
      assert.ok(
        Math.abs(fromPrefix[s][j] - expected[j]) < 1e-4,
        `seq ${s} token ${j}: ${fromPrefix[s][j]} vs ${expected[j]}`,
      );
      assert.ok(Math.abs(withoutCache[s][j] - expected[j]) < 1e-4, `plain seq ${s} token ${j}`);
    }
  }
  // Leaving the source paragraph out costs many nats: the scores are not all the same.
  const sum = (v: ArrayLike<number>): number => Array.from(v).reduce((a, b) => a + b, 0);
  assert.ok(sum(fromPrefix[2]) < sum(fromPrefix[0]) - 10, `${sum(fromPrefix[2])} vs ${sum(fromPrefix[0])}`);
  // A later call (the savings run) starts from the same whole prompt when asked to.
  const cut = ablated[3];
  const [again] = await cached.answerLogProbs([cut], undefined, undefined, { reusePrefix: true });
  const expected = await reference(cut);
  for (let j = 0; j < expected.length; j++) assert.ok(Math.abs(again[j] - expected[j]) < 1e-4);
});

test("the whole prompt's pass gives the attention of the tapped graph's dense probabilities", async () => {
  const { whole } = sequences();
  await cached.answerLogProbs([whole]);
  const n = whole.ids.length;
  const from = whole.answerStart - 1;
  const to = n - 2;
  const kept = cached.passAttention(whole.ids, from, to);
  assert.ok(kept);
  const layers = await loaded.runAttention(whole.ids, { probabilities: true });
  assert.equal(kept.received.length, layers.length);
  const meanRow = new Float64Array(n);
  let rows = 0;
  layers.forEach((layer, l) => {
    const data = layer.data as Float32Array;
    const received = new Float64Array(n);
    for (let h = 0; h < layer.heads; h++)
      for (let q = 0; q < n; q++)
        for (let k = 0; k <= q; k++) received[k] += data[(h * n + q) * n + k] / (layer.heads * n);
    for (let k = 0; k < n; k++) assert.ok(Math.abs(kept.received[l][k] - received[k]) < 1e-5, `layer ${l} key ${k}`);
    for (let h = 0; h < layer.heads; h++)
      for (let q = from; q <= to; q++) {
        for (let k = 0; k <= q; k++) meanRow[k] += data[(h * n + q) * n + k];
        rows++;
      }
  });
  for (let k = 0; k < n; k++) assert.ok(Math.abs(kept.meanRow[k] - meanRow[k] / rows) < 1e-5, `key ${k}`);
  // Other ids, or queries outside the kept rows: no answer from the cache.
  assert.equal(cached.passAttention(whole.ids.slice(1), from - 1, to - 1), null);
  assert.equal(cached.passAttention(whole.ids, 0, to), null);
});

test('cancellation stops before the next run', async () => {
  const { whole, ablated } = sequences();
  let asked = 0;
  await assert.rejects(
    cached.answerLogProbs([whole, ...ablated], undefined, () => ++asked > 2),
    AttributionCancelled,
  );
  assert.equal(asked, 3);
});

test('a graph that already takes a cache is left as it is', async () => {
  const tiny = await writeTinyModel(path.join(dir, 'past'), { withPast: true });
  const model = decodeModel(await fs.readFile(path.join(tiny.folder, 'onnx', 'model.onnx')));
  const before = model.graph?.node?.length;
  assert.equal(addPrefixCache(model, null), null);
  assert.equal(model.graph?.node?.length, before);
  const noPast = await writeTinyModel(path.join(dir, 'plain'), {});
  const rewritten = decodeModel(await fs.readFile(path.join(noPast.folder, 'onnx', 'model.onnx')));
  const added = addPrefixCache(rewritten, null);
  assert.equal(added?.layers, noPast.layers);
  assert.equal(added?.caches.length, 2 * noPast.layers);
  assert.equal(added?.native, false);
  assert.equal(added?.lastLayerRows, true);
  assert.equal(added?.attention, false);
});

test('a bias that carries more than the causal mask (ALiBi-like slopes) is not rebuilt', async () => {
  const tiny = await writeTinyModel(path.join(dir, 'biased'), {});
  const model = decodeModel(await fs.readFile(path.join(tiny.folder, 'onnx', 'model.onnx')));
  const graph = model.graph;
  assert.ok(graph?.node);
  const softmax = graph.node.find((n) => n.opType === 'Softmax');
  const add = graph.node.find((n) => n.output?.[0] === softmax?.input?.[0]);
  const mask = add?.input?.[1];
  assert.ok(mask);
  graph.initializer = [
    ...(graph.initializer ?? []),
    onnx.TensorProto.create({ name: 'slopes', dataType: 1, dims: [1, 4, 1, 1], floatData: [0.5, 0.25, 0.125, 0.0625] }),
  ];
  for (const node of graph.node) node.input = (node.input ?? []).map((i) => (i === mask ? 'biased' : i));
  graph.node.push(onnx.NodeProto.create({ name: 'bias', opType: 'Add', input: [mask, 'slopes'], output: ['biased'] }));
  assert.equal(addPrefixCache(model, null), null);
});
