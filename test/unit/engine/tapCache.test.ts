import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { LoadedModel } from '../../../src/engine/runtime/loadedModel';
import { decodeModel } from '../../../src/engine/graph/onnxGraph';
import { prepareTappedModel } from '../../../src/engine/graph/tapCache';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../helpers/tinyModel';

let dir = '';

before(async () => {
  dir = await makeTempDir();
});

after(() => removeTempDir(dir));

test('the surgery is paid once per model: the cache entry is keyed by the model bytes and reused', async () => {
  const tiny = await writeTinyModel(path.join(dir, 'cached'));
  const modelFile = path.join(tiny.folder, 'onnx', 'model.onnx');
  const cacheDir = path.join(dir, 'cache');
  const first = await prepareTappedModel(modelFile, 2, cacheDir);
  const stat1 = await fs.stat(first.modelPath);
  const second = await prepareTappedModel(modelFile, 2, cacheDir);
  assert.equal(second.modelPath, first.modelPath);
  assert.equal((await fs.stat(second.modelPath)).mtimeMs, stat1.mtimeMs, 'not rewritten');
  assert.deepEqual(second.plan, first.plan);

  // The tapped graph outputs only what the inspector reads (the LM head is pruned away).
  const tapped = decodeModel(await fs.readFile(first.modelPath));
  const outputs = (tapped.graph?.output ?? []).map((o) => o.name);
  assert.ok(!outputs.includes('logits'));
  for (const name of [...first.plan.outputNames, first.stats.longRange, ...first.stats.layers.flatMap((l) => [l.received, l.rollout.weights, l.heads.keys])]) assert.ok(outputs.includes(name));
  assert.ok(first.inputs.some((i) => i.name === 'position_ids'));
  assert.equal(first.graphVocabSize, tiny.vocabSize);

  // Different bytes → a different entry.
  const other = await writeTinyModel(path.join(dir, 'other'), { layers: 3 });
  const third = await prepareTappedModel(path.join(other.folder, 'onnx', 'model.onnx'), 3, cacheDir);
  assert.notEqual(third.modelPath, first.modelPath);
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

test('a model with external data loads: the tapped graph in the cache still finds model.onnx_data', async () => {
  const plain = await writeTinyModel(path.join(dir, 'plain'));
  const external = await writeTinyModel(path.join(dir, 'external'));
  await externalize(external.folder);
  assert.ok((await fs.stat(path.join(external.folder, 'onnx', 'model.onnx'))).size < 20_000, 'weights moved out');
  const cacheDir = path.join(dir, 'cache-external');
  const a = await LoadedModel.load(plain.folder, { id: 'plain', cacheDir, provider: 'cpu' });
  const b = await LoadedModel.load(external.folder, { id: 'external', cacheDir, provider: 'cpu' });
  const ids = a.tokenizer.tokenize('Same weights, stored two ways.').ids;
  const [la, lb] = [await a.runAttention(ids), await b.runAttention(ids)];
  for (let l = 0; l < la.length; l++) assert.deepEqual(lb[l].data, la[l].data);
  await a.dispose();
  await b.dispose();
});

test('a decoder export with KV-cache inputs gets empty past tensors and use_cache_branch=false', async () => {
  const plain = await writeTinyModel(path.join(dir, 'no-past'));
  const withPast = await writeTinyModel(path.join(dir, 'with-past'), { withPast: true });
  const cacheDir = path.join(dir, 'cache-past');
  const a = await LoadedModel.load(plain.folder, { id: 'no-past', cacheDir, provider: 'cpu' });
  const b = await LoadedModel.load(withPast.folder, { id: 'with-past', cacheDir, provider: 'cpu' });
  const ids = a.tokenizer.tokenize('Cache inputs are fed empty.').ids;
  const [la, lb] = [await a.runAttention(ids), await b.runAttention(ids)];
  for (let l = 0; l < la.length; l++) assert.deepEqual(lb[l].data, la[l].data);
  await a.dispose();
  await b.dispose();
});
