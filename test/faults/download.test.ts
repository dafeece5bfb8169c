// Faults in a Hub download (local server on 127.0.0.1): the connection cut at a random byte and resumed
// with a Range request; a file whose bytes do not match the listed sha256; the disk full (ENOSPC, a
// size-limited tmpfs where the test may mount, else skipped with a note: the download streams through a
// file handle that an in-process shim cannot reach in the worker). Each case ends with an inspection that
// works, and no model folder that holds a graph whose files are incomplete.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startHubServer, type HubServer } from '../helpers/hubServer';
import { makeTempDir, removeTempDir, writeTinyModel } from '../helpers/tinyModel';
import { seeded } from '../fuzz/mutate';
import {
  assertClean,
  assertNothingHalfWritten,
  assertOneLine,
  inspect,
  listFiles,
  makeWorker,
  mountTmpfs,
  request,
  TEXT,
} from './faultKit';

const ID = 'faults/tiny';
let dir = '';
let source = '';
let server: HubServer;

before(async () => {
  dir = await makeTempDir('pa-faults-hub-');
  source = (await writeTinyModel(path.join(dir, 'source'), { layers: 3, maxPositions: 128 })).folder;
  server = await startHubServer({ [ID]: source });
});

after(async () => {
  await server.close();
  await removeTempDir(dir);
});

/** The downloaded model folder holds its graph only when every file it lists is whole. */
function assertNoHalfModel(cache: string): void {
  const folder = path.join(cache, 'hub', ...ID.split('/'));
  const graph = path.join(folder, 'onnx', 'model.onnx');
  if (!fs.existsSync(graph)) return;
  assert.equal(
    fs.statSync(graph).size,
    fs.statSync(path.join(source, 'onnx', 'model.onnx')).size,
    'a partial graph in the model folder',
  );
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json'])
    assert.ok(fs.existsSync(path.join(folder, file)), `graph without ${file}`);
}

test('a download cut at a random byte resumes with a Range request and completes; the model inspects', async () => {
  const cache = path.join(dir, 'cache-cut');
  const size = fs.statSync(path.join(source, 'onnx', 'model.onnx')).size;
  // A random byte in the second half (a cut in the first few KiB can arrive together with the reset, so
  // nothing is on disk to resume from and the retry rightly asks for the whole file).
  const afterBytes = (size >> 1) + Math.floor(seeded(0xc07)() * ((size >> 1) - 1));
  server.drop.set('onnx/model.onnx', { afterBytes, times: 1 });
  server.requests.length = 0;
  const worker = await makeWorker(cache, dir, { hubEndpoint: server.endpoint });
  try {
    assertClean(await inspect(worker, request(ID, TEXT)), 3);
    // Resumed from what arrived before the cut: at most `afterBytes`, more than nothing.
    const resumedAt = server.requests
      .map((r) => /onnx\/model\.onnx range=bytes=(\d+)-/.exec(r)?.[1])
      .find((n) => n !== undefined);
    assert.ok(
      resumedAt !== undefined && Number(resumedAt) > 0 && Number(resumedAt) <= afterBytes,
      `no resume after the cut at byte ${afterBytes}: ${server.requests.join(' | ')}`,
    );
    assertNoHalfModel(cache);
    assertNothingHalfWritten(cache);
  } finally {
    worker.dispose();
    server.drop.clear();
  }
});

test('a file that fails its sha256 check is one line and deleted; served right, the next inspection works', async () => {
  const cache = path.join(dir, 'cache-sha');
  server.corrupt.add('onnx/model.onnx');
  const worker = await makeWorker(cache, dir, { hubEndpoint: server.endpoint });
  try {
    const failed = await inspect(worker, request(ID, TEXT));
    assertOneLine(failed.error, /model\.onnx/);
    assertNoHalfModel(cache);
    assert.ok(
      !fs.existsSync(path.join(cache, 'hub', ...ID.split('/'), 'onnx', 'model.onnx')),
      'the bad graph reached the model folder',
    );
    assert.deepEqual(
      listFiles(cache).filter((f) => f.endsWith('model.onnx.part') || f.endsWith('model.onnx')),
      [],
      'the bad bytes were kept',
    );
    server.corrupt.clear();
    assertClean(await inspect(worker, request(ID, TEXT)), 3);
    assertNoHalfModel(cache);
    assertNothingHalfWritten(cache);
  } finally {
    worker.dispose();
    server.corrupt.clear();
  }
});

test('ENOSPC during a download: one line, no half model; with room again the download resumes and works', async (t: TestContext) => {
  const size = fs.statSync(path.join(source, 'onnx', 'model.onnx')).size;
  const mount = mountTmpfs(path.join(dir, 'hub-full'), `${Math.max(8, Math.floor(size / 2048))}k`);
  if (!mount) {
    t.diagnostic(
      'skipped: no tmpfs mount here, and the worker thread writes the download where an fs shim in this process cannot reach',
    );
    return;
  }
  t.diagnostic(`ENOSPC from a tmpfs of half the graph's size (${Math.floor(size / 2048)} KiB)`);
  const worker = await makeWorker(mount.dir, dir, { hubEndpoint: server.endpoint });
  try {
    const failed = await inspect(worker, request(ID, TEXT));
    assertOneLine(failed.error, /ENOSPC|no space/i);
    assertNoHalfModel(mount.dir);
    mount.remount('size=64m');
    assertClean(await inspect(worker, request(ID, TEXT)), 3);
    assertNoHalfModel(mount.dir);
    assertNothingHalfWritten(mount.dir);
  } finally {
    worker.dispose();
    mount.unmount();
  }
});
