import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { DownloadProgress } from '../../../src/engine/runtime/hubDownload';
import { hubModelFolder } from '../../../src/engine/runtime/hubDownload';
import { LoadedModel } from '../../../src/engine/runtime/loadedModel';
import { resolveModel } from '../../../src/engine/runtime/modelSource';
import type { HubServer } from '../../helpers/hubServer';
import { startHubServer } from '../../helpers/hubServer';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../helpers/tinyModel';

let dir = '';
let served = '';
let hub: HubServer;
let endpoint = '';

before(async () => {
  dir = await makeTempDir();
  served = (await writeTinyModel(path.join(dir, 'served'))).folder;
  hub = await startHubServer({ 'test-org/tiny-llama': served });
  endpoint = hub.endpoint;
});

after(async () => {
  await hub.close();
  await removeTempDir(dir);
});

async function entries(folder: string): Promise<string[]> {
  try {
    return await fs.readdir(folder);
  } catch {
    return [];
  }
}

test('a failed download leaves nothing behind that a later run would load', async () => {
  const storage = path.join(dir, 'storage-fail');
  hub.breakOn.add('onnx/model.onnx');
  try {
    await assert.rejects(
      resolveModel('test-org/tiny-llama', { modelsDir: dir, storageDir: storage, endpoint }),
      (error: Error) => /Download of test-org\/tiny-llama failed/.test(error.message) && !error.message.includes('\n'),
    );
  } finally {
    hub.breakOn.clear();
  }
  // No final folder, and no partial folder left.
  await assert.rejects(fs.access(hubModelFolder(storage, 'test-org/tiny-llama')));
  assert.deepEqual((await entries(path.join(storage, 'hub'))).filter((e) => e.startsWith('.partial')), []);
});

test('a Hub id downloads into storage once (with byte progress), then loads and is reused', async () => {
  const storage = path.join(dir, 'storage');
  const progress: DownloadProgress[] = [];
  hub.requests.length = 0;
  const location = await resolveModel('test-org/tiny-llama', { modelsDir: dir, storageDir: storage, endpoint, onProgress: (p) => progress.push(p) });
  assert.equal(location.id, 'test-org/tiny-llama');
  assert.equal(location.folder, hubModelFolder(storage, 'test-org/tiny-llama'));
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'card.json']) {
    assert.deepEqual(await fs.readFile(path.join(location.folder, file)), await fs.readFile(path.join(served, file)), file);
  }
  // The optional external-data file is absent on the server (404) and simply skipped.
  await assert.rejects(fs.access(path.join(location.folder, 'onnx', 'model.onnx_data')));
  const modelBytes = (await fs.stat(path.join(served, 'onnx', 'model.onnx'))).size;
  const last = progress.at(-1);
  assert.ok(progress.length >= 4);
  assert.ok(progress.every((p, i) => i === 0 || p.loadedBytes >= progress[i - 1].loadedBytes), 'bytes only grow');
  assert.ok((last?.loadedBytes ?? 0) > modelBytes);
  assert.equal(last?.loadedBytes, last?.totalBytes);
  assert.deepEqual((await entries(path.join(storage, 'hub'))).filter((e) => e.startsWith('.partial')), []);

  const model = await LoadedModel.load(location.folder, { id: location.id, cacheDir: storage, provider: 'cpu' });
  assert.equal(model.layers, 2);
  await model.dispose();

  hub.requests.length = 0;
  const again = await resolveModel('test-org/tiny-llama', { modelsDir: dir, storageDir: storage, endpoint });
  assert.equal(again.folder, location.folder);
  assert.deepEqual(hub.requests, [], 'served from storage, no request');
});

test('a Hub id without the ONNX file names what is missing', async () => {
  await assert.rejects(
    resolveModel('test-org/not-there', { modelsDir: dir, storageDir: path.join(dir, 'storage-missing'), endpoint }),
    /Cannot download test-org\/not-there: config\.json answered HTTP 404/,
  );
});

test('a setting that is neither a folder nor a Hub id is refused', async () => {
  await assert.rejects(resolveModel('not a model!', { modelsDir: dir, storageDir: dir, endpoint }), /neither a folder nor a Hub model id/);
});
