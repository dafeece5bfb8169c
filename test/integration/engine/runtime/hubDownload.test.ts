// Hub downloads against the local server (test/helpers/hubServer.ts): the API listing, the files a dtype
// needs, size and hash checks, Range resume after a dropped connection, and path safety.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { DownloadProgress } from '../../../../src/engine/runtime/hubDownload';
import { hubModelFolder } from '../../../../src/engine/runtime/hubDownload';
import { isSafeRepoPath, listHubFiles, pathInside } from '../../../../src/engine/runtime/hubListing';
import { LoadedModel } from '../../../../src/engine/runtime/loadedModel';
import { resolveModel } from '../../../../src/engine/runtime/modelSource';
import type { HubServer } from '../../../helpers/hubServer';
import { startHubServer } from '../../../helpers/hubServer';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../../helpers/tinyModel';

let dir = '';
let served = '';
let multi = '';
let hub: HubServer;
let endpoint = '';
const ID = 'test-org/tiny-llama';
const MULTI = 'test-org/multi-dtype';

before(async () => {
  dir = await makeTempDir();
  served = (await writeTinyModel(path.join(dir, 'served'))).folder;
  // A repository with several dtypes, one of them with external data in two chunks.
  multi = path.join(dir, 'multi');
  await fs.cp(served, multi, { recursive: true });
  await fs.copyFile(path.join(multi, 'onnx', 'model.onnx'), path.join(multi, 'onnx', 'model_q4.onnx'));
  await fs.writeFile(path.join(multi, 'onnx', 'model_q4.onnx_data'), Buffer.alloc(3000, 7));
  await fs.writeFile(path.join(multi, 'onnx', 'model_q4.onnx_data_1'), Buffer.alloc(2000, 9));
  await fs.copyFile(path.join(multi, 'onnx', 'model.onnx'), path.join(multi, 'onnx', 'model_fp16.onnx'));
  await fs.writeFile(path.join(multi, 'README.md'), '# not needed\n');
  hub = await startHubServer({ [ID]: served, [MULTI]: multi });
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

const sha256 = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
const fetched = (prefix: string): string[] =>
  hub.requests
    .filter((r) => r.includes('/resolve/'))
    .map((r) => r.replace(/^GET \/[^/]+\/[^/]+\/resolve\/main\//, '').replace(prefix, ''));

test('the listing comes from the Hub API, page after page, with LFS sha256 and sizes', async () => {
  hub.pageSize = 3;
  try {
    const files = await listHubFiles(MULTI, 'main', { host: endpoint, get: (url, init) => fetch(url, init) });
    const names = files.map((f) => f.path).sort();
    assert.deepEqual(names, [
      'README.md',
      'card.json',
      'config.json',
      'onnx/model.onnx',
      'onnx/model_fp16.onnx',
      'onnx/model_q4.onnx',
      'onnx/model_q4.onnx_data',
      'onnx/model_q4.onnx_data_1',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const graph = files.find((f) => f.path === 'onnx/model.onnx');
    assert.equal(graph?.size, (await fs.stat(path.join(multi, 'onnx', 'model.onnx'))).size);
    assert.equal(graph?.sha256, await sha256(path.join(multi, 'onnx', 'model.onnx')));
    assert.match(files.find((f) => f.path === 'config.json')?.gitOid ?? '', /^[0-9a-f]{40}$/);
    assert.ok(hub.requests.filter((r) => r.includes('/api/models/')).length >= 4, 'followed the Link header');
  } finally {
    hub.pageSize = 1000;
  }
});

test('a dtype downloads only its graph and external data (all chunks), plus the side files', async () => {
  const storage = path.join(dir, 'storage-q4');
  hub.requests.length = 0;
  const location = await resolveModel(MULTI, { modelsDir: dir, storageDir: storage, endpoint, dtype: 'q4' });
  assert.deepEqual(fetched('').sort(), [
    'card.json',
    'config.json',
    'onnx/model_q4.onnx',
    'onnx/model_q4.onnx_data',
    'onnx/model_q4.onnx_data_1',
    'tokenizer.json',
    'tokenizer_config.json',
  ]);
  for (const file of ['onnx/model_q4.onnx', 'onnx/model_q4.onnx_data_1', 'tokenizer.json']) {
    assert.deepEqual(
      await fs.readFile(path.join(location.folder, file)),
      await fs.readFile(path.join(multi, file)),
      file,
    );
  }
  await assert.rejects(fs.access(path.join(location.folder, 'onnx', 'model.onnx')));

  // The same dtype again: no request. Another dtype: only its graph.
  hub.requests.length = 0;
  await resolveModel(MULTI, { modelsDir: dir, storageDir: storage, endpoint, dtype: 'q4' });
  assert.deepEqual(hub.requests, []);
  await resolveModel(MULTI, { modelsDir: dir, storageDir: storage, endpoint, dtype: 'fp16' });
  assert.deepEqual(fetched(''), ['onnx/model_fp16.onnx']);
});

test('a genai_config.json layout downloads the graph it names, with its .data file', async () => {
  const genai = path.join(dir, 'genai');
  await fs.mkdir(genai, { recursive: true });
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json'])
    await fs.copyFile(path.join(served, file), path.join(genai, file));
  await fs.copyFile(path.join(served, 'onnx', 'model.onnx'), path.join(genai, 'decoder.onnx'));
  await fs.writeFile(path.join(genai, 'decoder.onnx.data'), Buffer.alloc(1500, 3));
  await fs.writeFile(path.join(genai, 'other.onnx'), Buffer.alloc(10, 1));
  await fs.writeFile(
    path.join(genai, 'genai_config.json'),
    JSON.stringify({ model: { decoder: { filename: 'decoder.onnx' } } }),
  );
  const server = await startHubServer({ 'test-org/genai': genai });
  try {
    const location = await resolveModel('test-org/genai', {
      modelsDir: dir,
      storageDir: path.join(dir, 'storage-genai'),
      endpoint: server.endpoint,
    });
    const files = server.requests
      .filter((r) => r.includes('/resolve/'))
      .map((r) => r.replace(/^GET \/test-org\/genai\/resolve\/main\//, ''));
    assert.deepEqual(files.sort(), [
      'config.json',
      'decoder.onnx',
      'decoder.onnx.data',
      'genai_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    assert.deepEqual(await fs.readFile(path.join(location.folder, 'decoder.onnx.data')), Buffer.alloc(1500, 3));
    await fs.access(path.join(location.folder, 'genai_config.json'));
  } finally {
    await server.close();
  }
});

test('a file whose sha256 does not match the listing is refused and deleted, nothing half-written', async () => {
  const storage = path.join(dir, 'storage-corrupt');
  hub.corrupt.add('onnx/model.onnx');
  try {
    await assert.rejects(
      resolveModel(ID, { modelsDir: dir, storageDir: storage, endpoint }),
      (error: Error) =>
        /^Refused onnx\/model\.onnx from test-org\/tiny-llama: its sha256 .* is not the listed/.test(error.message) &&
        !error.message.includes('\n'),
    );
  } finally {
    hub.corrupt.clear();
  }
  await assert.rejects(fs.access(path.join(hubModelFolder(storage, ID), 'onnx', 'model.onnx')));
  const partial = path.join(storage, 'hub', '.partial', ...ID.split('/'), 'onnx');
  assert.deepEqual(await entries(partial), [], 'neither the file nor its .part is kept');
});

test('a dropped connection resumes with a Range request, within a run and in the next one', async () => {
  const graphBytes = await fs.readFile(path.join(served, 'onnx', 'model.onnx'));
  const half = graphBytes.length >> 1;
  // Within a run: cut once, the retry asks for the rest.
  const storage = path.join(dir, 'storage-resume');
  hub.requests.length = 0;
  hub.drop.set('onnx/model.onnx', { afterBytes: half, times: 1 });
  const progress: DownloadProgress[] = [];
  const location = await resolveModel(ID, {
    modelsDir: dir,
    storageDir: storage,
    endpoint,
    retryDelayMs: 1,
    onProgress: (p) => progress.push(p),
  });
  assert.deepEqual(await fs.readFile(path.join(location.folder, 'onnx', 'model.onnx')), graphBytes);
  assert.ok(
    hub.requests.includes(`GET /${ID}/resolve/main/onnx/model.onnx range=bytes=${half}-`),
    hub.requests.join('\n'),
  );
  assert.ok(
    progress.every((p, i) => i === 0 || p.loadedBytes >= progress[i - 1].loadedBytes),
    'bytes only grow',
  );
  assert.equal(progress.at(-1)?.loadedBytes, progress.at(-1)?.totalBytes);

  // Across runs: every attempt cut, the run fails with a one-line message; the next run resumes.
  const storage2 = path.join(dir, 'storage-resume-2');
  hub.drop.set('onnx/model.onnx', { afterBytes: half, times: 4 });
  await assert.rejects(
    resolveModel(ID, { modelsDir: dir, storageDir: storage2, endpoint, retryDelayMs: 1 }),
    /failed at onnx\/model\.onnx: the connection dropped 4 times.*run again to resume\.$/,
  );
  await assert.rejects(fs.access(hubModelFolder(storage2, ID)), 'no model folder a later run would load');
  hub.requests.length = 0;
  const again = await resolveModel(ID, { modelsDir: dir, storageDir: storage2, endpoint });
  assert.deepEqual(await fs.readFile(path.join(again.folder, 'onnx', 'model.onnx')), graphBytes);
  assert.deepEqual(
    fetched(''),
    [`onnx/model.onnx range=bytes=${half}-`],
    'only the rest of the graph, the side files kept',
  );
  assert.deepEqual(await entries(path.join(storage2, 'hub')), ['test-org'], 'the partial folder is gone');

  const model = await LoadedModel.load(again.folder, { id: again.id, cacheDir: storage2, provider: 'cpu' });
  assert.equal(model.layers, 2);
  await model.dispose();
});

test('a cancelled download stops with one line, keeps what it has, and the next run resumes it', async () => {
  const storage = path.join(dir, 'storage-cancel');
  const abort = new AbortController();
  const graph = 'onnx/model.onnx';
  let graphEvents = 0;
  // The graph's first event is its start (0 bytes); cancel after its first chunk is on disk.
  const onProgress = (p: DownloadProgress): void => {
    if (p.file === graph && ++graphEvents === 2) abort.abort();
  };
  await assert.rejects(
    resolveModel(ID, { modelsDir: dir, storageDir: storage, endpoint, signal: abort.signal, onProgress }),
    (error: Error) =>
      /^Download of test-org\/tiny-llama cancelled; onnx\/model\.onnx resumes where it stopped next time\.$/.test(
        error.message,
      ),
  );
  await assert.rejects(fs.access(hubModelFolder(storage, ID)));
  const part = path.join(storage, 'hub', '.partial', ...ID.split('/'), 'onnx', 'model.onnx.part');
  const kept = (await fs.stat(part)).size;
  assert.ok(kept > 0);
  hub.requests.length = 0;
  const location = await resolveModel(ID, { modelsDir: dir, storageDir: storage, endpoint });
  assert.deepEqual(await fs.readFile(path.join(location.folder, graph)), await fs.readFile(path.join(served, graph)));
  assert.deepEqual(fetched(''), [`${graph} range=bytes=${kept}-`]);
});

test('a listing that names a path outside the folder is refused before anything is written', async () => {
  const storage = path.join(dir, 'storage-evil');
  hub.extraEntries.push({ type: 'file', oid: '1'.repeat(40), size: 3, path: '../../evil.json' });
  try {
    await assert.rejects(
      resolveModel(ID, { modelsDir: dir, storageDir: storage, endpoint }),
      /names "\.\.\/\.\.\/evil\.json", which is not a safe relative path/,
    );
  } finally {
    hub.extraEntries.length = 0;
  }
  assert.deepEqual(await entries(storage), []);
  for (const bad of ['/etc/passwd', 'a/../b', '..', 'C:/x', 'a\\b', './a', 'a//b', ''])
    assert.equal(isSafeRepoPath(bad), false, bad);
  assert.equal(isSafeRepoPath('onnx/model_q4.onnx_data'), true);
  assert.throws(() => pathInside(dir, '../x'), /not a relative path inside/);
});

test('a Hub id the server does not have says so in one line', async () => {
  await assert.rejects(
    resolveModel('test-org/not-there', { modelsDir: dir, storageDir: path.join(dir, 'storage-missing'), endpoint }),
    (error: Error) =>
      error.message ===
      'Cannot download test-org/not-there: the Hub has no model test-org/not-there at revision main (HTTP 404).',
  );
});

test('a setting that is neither a folder nor a Hub id is refused', async () => {
  await assert.rejects(
    resolveModel('not a model!', { modelsDir: dir, storageDir: dir, endpoint }),
    /neither a folder nor a Hub model id/,
  );
});
