// Faults on disk: a full disk (ENOSPC) and a read-only cache while the tapped graph is written, a corrupt
// cached tapped graph, and a model folder that changes between two inspections. The full and read-only
// disks are real: a size-limited tmpfs, remounted read-only, where the test may mount (root with
// CAP_SYS_ADMIN, as in CI); elsewhere an fs shim in this process makes the same calls fail with
// ENOSPC / EROFS. Each case says which one it used.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { LoadedModel } from '../../src/engine/runtime/loadedModel';
import { EngineError } from '../../src/engine/engineError';
import { makeTempDir, removeTempDir, writeTinyModel } from '../helpers/tinyModel';
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

let dir = '';
let model = '';

before(async () => {
  dir = await makeTempDir('pa-faults-disk-');
  model = (await writeTinyModel(path.join(dir, 'tiny'), { layers: 3, maxPositions: 128 })).folder;
});

after(() => removeTempDir(dir));

/** Makes writes under `root` fail with `code` in this process (the fallback where no mount is possible). */
function shimWrites(root: string, code: 'ENOSPC' | 'EROFS'): () => void {
  const promises = fsSync.promises as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const names = ['writeFile', 'mkdir', 'rename', 'link', 'copyFile', 'open'];
  const saved = names.map((name) => promises[name]);
  names.forEach((name, i) => {
    promises[name] = (...args: unknown[]) => {
      const target = String(args[name === 'rename' || name === 'link' || name === 'copyFile' ? 1 : 0]);
      if (target.startsWith(root))
        return Promise.reject(Object.assign(new Error(`${code}: simulated, ${name} '${target}'`), { code }));
      return saved[i](...args);
    };
  });
  return () => names.forEach((name, i) => (promises[name] = saved[i]));
}

async function loadInProcess(cacheDir: string): Promise<LoadedModel> {
  return LoadedModel.load(model, { id: 'tiny', cacheDir, provider: 'cpu' });
}

test('ENOSPC while the tapped graph is written: one line naming the cache, no half-written entry, the next inspection works once there is room', async (t: TestContext) => {
  const mount = mountTmpfs(path.join(dir, 'full'), '16k');
  if (mount) {
    t.diagnostic('ENOSPC from a 16 KiB tmpfs mount');
    const worker = await makeWorker(mount.dir, dir);
    try {
      const failed = await inspect(worker, request(model, TEXT));
      assertOneLine(failed.error, /Cannot write the tapped-graph cache in .*full.*(ENOSPC|no space)/);
      assertNothingHalfWritten(mount.dir);
      assert.deepEqual(listFiles(path.join(mount.dir, 'tapped')), [], 'a partial entry is left');
      mount.remount('size=64m');
      assertClean(await inspect(worker, request(model, TEXT)), 3);
      assertNothingHalfWritten(mount.dir);
    } finally {
      worker.dispose();
      mount.unmount();
    }
    return;
  }
  t.diagnostic('ENOSPC from an fs shim (this process may not mount tmpfs)');
  const cache = path.join(dir, 'full-shim');
  const restore = shimWrites(path.join(cache, 'tapped'), 'ENOSPC');
  try {
    await assert.rejects(
      loadInProcess(cache),
      (error: unknown) =>
        error instanceof EngineError && /Cannot write the tapped-graph cache.*ENOSPC/.test(error.message),
    );
  } finally {
    restore();
  }
  assertNothingHalfWritten(cache);
  const loaded = await loadInProcess(cache);
  assert.equal((await loaded.runAttention([1, 2, 3])).length, 3);
  await loaded.dispose();
});

test('a read-only cache folder: a graph already cached still loads; a missing one is one line; writable again, it works', async (t: TestContext) => {
  const mount = mountTmpfs(path.join(dir, 'ro'), '64m');
  const cache = mount?.dir ?? path.join(dir, 'ro-shim');
  t.diagnostic(
    mount ? 'EROFS from a tmpfs remounted read-only' : 'EROFS from an fs shim (this process may not mount tmpfs)',
  );
  const other = (await writeTinyModel(path.join(dir, 'other'), { layers: 2, maxPositions: 128 })).folder;
  const worker = await makeWorker(cache, dir);
  let restore = (): void => undefined;
  try {
    assertClean(await inspect(worker, request(model, TEXT)), 3);
    if (mount) mount.remount('ro');
    else restore = shimWrites(cache, 'EROFS');
    const before = listFiles(cache);
    // A fresh worker: the cached entry is read, not written.
    worker.simulateCrash();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assertClean(await inspect(worker, request(model, TEXT)), 3);
    if (mount) {
      const failed = await inspect(worker, request(other, TEXT));
      assertOneLine(failed.error, /Cannot write the tapped-graph cache in .*(EROFS|read-only)/);
      assert.deepEqual(listFiles(cache), before, 'the read-only cache changed');
      mount.remount('rw');
    } else {
      restore();
      restore = () => undefined;
    }
    assertClean(await inspect(worker, request(other, TEXT)), 2);
    assertNothingHalfWritten(cache);
  } finally {
    restore();
    worker.dispose();
    mount?.unmount();
  }
});

test('a corrupt cached tapped graph is rebuilt, not loaded', async () => {
  const cache = path.join(dir, 'cache-corrupt');
  const worker = await makeWorker(cache, dir);
  try {
    const first = await inspect(worker, request(model, TEXT));
    assertClean(first, 3);
    const graphs = listFiles(cache).filter((f) => /^tapped\/[^/]+\/model\.onnx$/.test(f));
    assert.equal(graphs.length, 1);
    const graph = path.join(cache, graphs[0]);
    const good = await fs.readFile(graph);
    // Same size, bytes flipped in the middle: a loader that trusted the cache would run garbage or crash.
    const bad = Buffer.from(good);
    for (let i = bad.length >> 2; i < (bad.length >> 2) + 256 && i < bad.length; i++) bad[i] ^= 0x5a;
    await fs.writeFile(graph, bad);
    worker.simulateCrash();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await inspect(worker, request(model, TEXT));
    assertClean(second, 3);
    assert.deepEqual(
      second.layers.map((l) => Array.from(l.received)),
      first.layers.map((l) => Array.from(l.received)),
      'the rebuilt graph gives other attention',
    );
    assert.ok((await fs.readFile(graph)).equals(good), 'the corrupt graph was not rebuilt');
    assertNothingHalfWritten(cache);
  } finally {
    worker.dispose();
  }
});

test('a model folder that changes between two inspections: the second uses the new model', async () => {
  const folder = path.join(dir, 'changing');
  const cache = path.join(dir, 'cache-changing');
  await writeTinyModel(folder, { layers: 3, maxPositions: 128 });
  const worker = await makeWorker(cache, dir);
  try {
    assertClean(await inspect(worker, request(folder, TEXT)), 3);
    // Replaced in place by a model with other layers and heads (a re-export, a git checkout).
    await fs.rm(folder, { recursive: true });
    await writeTinyModel(folder, { layers: 2, heads: 2, kvHeads: 1, maxPositions: 128 });
    const second = await inspect(worker, request(folder, TEXT));
    assertClean(second, 2);
    assert.equal(second.header?.model.heads, 2);
    // Half replaced (model.onnx gone): one line, then whole again, it works.
    await fs.rm(path.join(folder, 'onnx', 'model.onnx'));
    const broken = await inspect(worker, request(folder, TEXT));
    assertOneLine(broken.error, /model\.onnx|not found|Cannot/);
    await writeTinyModel(folder, { layers: 3, maxPositions: 128 });
    assertClean(await inspect(worker, request(folder, TEXT)), 3);
    assertNothingHalfWritten(cache);
  } finally {
    worker.dispose();
  }
});
