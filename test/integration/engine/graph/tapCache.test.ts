import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { LoadedModel } from '../../../../src/engine/runtime/loadedModel';
import { decodeModel } from '../../../../src/engine/graph/onnxGraph';
import { prepareTappedModel } from '../../../../src/engine/graph/tapCache';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../../helpers/tinyModel';

let dir = '';

before(async () => {
  dir = await makeTempDir();
});

after(() => removeTempDir(dir));

test('the surgery is paid once per model: the cache entry is found by a stat key and partial hash, and reused', async () => {
  const tiny = await writeTinyModel(path.join(dir, 'cached'));
  const modelFile = path.join(tiny.folder, 'onnx', 'model.onnx');
  const cacheDir = path.join(dir, 'cache');
  let preparing = 0;
  const first = await prepareTappedModel(modelFile, 2, cacheDir, { onPreparing: () => preparing++ });
  const stat1 = await fs.stat(first.modelPath);
  const second = await prepareTappedModel(modelFile, 2, cacheDir, { onPreparing: () => preparing++ });
  assert.equal(preparing, 1, '"preparing the model" only when the surgery runs');
  assert.equal(second.modelPath, first.modelPath);
  assert.equal((await fs.stat(second.modelPath)).mtimeMs, stat1.mtimeMs, 'not rewritten');
  assert.deepEqual(second.plan, first.plan);

  // The tapped graph outputs only what the inspector reads: the LM head runs on the last position only (its
  // input sliced by pa_logits_keep, which defaults to −1), for the next-token distribution.
  const tapped = decodeModel(await fs.readFile(first.modelPath));
  const outputs = (tapped.graph?.output ?? []).map((o) => o.name);
  assert.equal(first.logits, 'logits');
  const keep = (tapped.graph?.initializer ?? []).find((t) => t.name === 'pa_logits_keep');
  assert.deepEqual(keep?.dims?.map(Number), [1]);
  // The probabilities leave only through their row Slice: a graph output is held until the run ends.
  for (const name of first.plan.outputNames) assert.ok(!outputs.includes(name), `${name} is not a graph output`);
  for (const name of [
    ...first.stats.probabilities,
    first.stats.longRange,
    ...first.stats.layers.flatMap((l) => [l.received, l.rollout.weights, l.heads.keys]),
  ])
    assert.ok(outputs.includes(name));
  assert.ok(first.inputs.some((i) => i.name === 'position_ids'));
  assert.equal(first.graphVocabSize, tiny.vocabSize);

  // Different bytes → a different entry.
  const other = await writeTinyModel(path.join(dir, 'other'), { layers: 3 });
  const third = await prepareTappedModel(path.join(other.folder, 'onnx', 'model.onnx'), 3, cacheDir);
  assert.notEqual(third.modelPath, first.modelPath);
});

test('the tapped graph keeps no copy of the weights: they are external data in a hard link of the source', async () => {
  const tiny = await writeTinyModel(path.join(dir, 'linked'), { hidden: 64 });
  const modelFile = path.join(tiny.folder, 'onnx', 'model.onnx');
  const tapped = await prepareTappedModel(modelFile, 2, path.join(dir, 'cache-linked'));
  const source = await fs.stat(modelFile);
  const link = await fs.stat(path.join(path.dirname(tapped.modelPath), 'source.onnx'));
  assert.equal(link.ino, source.ino, 'a hard link, not a copy');
  assert.ok((await fs.stat(tapped.modelPath)).size < source.size / 4, 'the tapped graph is small');
  const graph = decodeModel(await fs.readFile(tapped.modelPath));
  const external = (graph.graph?.initializer ?? []).filter((t) =>
    (t.externalData ?? []).some((e) => e.key === 'location' && e.value === 'source.onnx'),
  );
  assert.ok(external.length > 0);
});

test('a corrupt cached tapped graph is rebuilt, not loaded', async () => {
  const tiny = await writeTinyModel(path.join(dir, 'corrupt'));
  const cacheDir = path.join(dir, 'cache-corrupt');
  const modelFile = path.join(tiny.folder, 'onnx', 'model.onnx');
  const good = await prepareTappedModel(modelFile, 2, cacheDir);
  const ids = [1, 2, 3, 4, 5, 6];
  const reference = await LoadedModel.load(tiny.folder, { id: 'corrupt', cacheDir, provider: 'cpu' });
  const expected = await reference.runAttention(ids);
  await reference.dispose();
  // A torn write: the bytes no longer match the entry's checksum.
  await fs.writeFile(good.modelPath, (await fs.readFile(good.modelPath)).subarray(0, 100));
  let rebuilt = 0;
  const again = await prepareTappedModel(modelFile, 2, cacheDir, { onPreparing: () => rebuilt++ });
  assert.equal(rebuilt, 1);
  assert.ok((await fs.stat(again.modelPath)).size > 100);
  // Garbage whose checksum was rewritten too: onnxruntime refuses it, and the load rebuilds the entry.
  const garbage = Buffer.from('not an onnx model at all');
  await fs.writeFile(again.modelPath, garbage);
  const metaPath = path.join(path.dirname(again.modelPath), 'meta.json');
  const meta = JSON.parse(await fs.readFile(metaPath, 'utf8')) as Record<string, unknown>;
  await fs.writeFile(
    metaPath,
    JSON.stringify({ ...meta, graphSha256: createHash('sha256').update(garbage).digest('hex') }),
  );
  let preparing = 0;
  const model = await LoadedModel.load(tiny.folder, {
    id: 'corrupt',
    cacheDir,
    provider: 'cpu',
    onPreparing: () => preparing++,
  });
  assert.equal(preparing, 1, 'rebuilt once');
  const layers = await model.runAttention(ids);
  layers.forEach((layer, l) => assert.deepEqual(layer.data, expected[l].data));
  await model.dispose();
});

/** Moves every initializer of `onnx/model.onnx` into `onnx/model.onnx_data` (the layout of big exports). */
async function externalize(folder: string): Promise<void> {
  const file = path.join(folder, 'onnx', 'model.onnx');
  const model = onnx.ModelProto.decode(await fs.readFile(file));
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const tensor of model.graph?.initializer ?? []) {
    const raw = tensor.rawData;
    if (!raw || raw.length < 64) continue;
    chunks.push(Buffer.from(raw));
    tensor.externalData = [
      { key: 'location', value: 'model.onnx_data' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.rawData = new Uint8Array(0);
    offset += raw.length;
  }
  await fs.writeFile(path.join(folder, 'onnx', 'model.onnx_data'), Buffer.concat(chunks));
  await fs.writeFile(file, onnx.ModelProto.encode(model).finish());
}

/** Loads two folders of the same weights into one cache and checks their attention on `text` is identical. */
async function assertSameAttention(
  cache: string,
  [idA, folderA]: readonly [string, string],
  [idB, folderB]: readonly [string, string],
  text: string,
): Promise<void> {
  const cacheDir = path.join(dir, cache);
  const a = await LoadedModel.load(folderA, { id: idA, cacheDir, provider: 'cpu' });
  const b = await LoadedModel.load(folderB, { id: idB, cacheDir, provider: 'cpu' });
  const ids = a.tokenizer.tokenize(text).ids;
  const [la, lb] = [await a.runAttention(ids), await b.runAttention(ids)];
  for (let l = 0; l < la.length; l++) assert.deepEqual(lb[l].data, la[l].data);
  await a.dispose();
  await b.dispose();
}

test('a model with external data loads: the tapped graph in the cache still finds model.onnx_data', async () => {
  const plain = await writeTinyModel(path.join(dir, 'plain'));
  const external = await writeTinyModel(path.join(dir, 'external'));
  await externalize(external.folder);
  assert.ok((await fs.stat(path.join(external.folder, 'onnx', 'model.onnx'))).size < 20_000, 'weights moved out');
  await assertSameAttention(
    'cache-external',
    ['plain', plain.folder],
    ['external', external.folder],
    'Same weights, stored two ways.',
  );
});

test('a decoder export with KV-cache inputs gets empty past tensors and use_cache_branch=false', async () => {
  const plain = await writeTinyModel(path.join(dir, 'no-past'));
  const withPast = await writeTinyModel(path.join(dir, 'with-past'), { withPast: true });
  await assertSameAttention(
    'cache-past',
    ['no-past', plain.folder],
    ['with-past', withPast.folder],
    'Cache inputs are fed empty.',
  );
});
