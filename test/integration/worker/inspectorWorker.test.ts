import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { InspectRequest } from '../../../src/engine/inspectApi';
import { cpuInspectRequest } from '../../helpers/inspectRequest';
import type {
  InspectionEventSink,
  InspectionHeader,
  InspectionSummary,
  LayerAttention,
  ProgressEvent,
} from '../../../src/shared/protocol';
import { InspectorWorker } from '../../../src/worker/inspectorWorker';
import { buildBundle } from '../../helpers/buildBundle';
import { startHubServer } from '../../helpers/hubServer';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../helpers/tinyModel';

let workerScript = '';

interface Recorded {
  readonly events: string[];
  header?: InspectionHeader;
  readonly layers: LayerAttention[];
  summary?: InspectionSummary;
  error?: string;
  readonly progress: ProgressEvent[];
}

function recorder(): { listener: InspectionEventSink; recorded: Recorded } {
  const recorded: Recorded = { events: [], layers: [], progress: [] };
  const listener: InspectionEventSink = (event) => {
    switch (event.kind) {
      case 'progress':
        recorded.progress.push(event);
        break;
      case 'header':
        recorded.events.push('start');
        recorded.header = event.header;
        break;
      case 'layer':
        recorded.events.push(`layer ${event.layer.layer}`);
        recorded.layers.push(event.layer);
        break;
      case 'summary':
        recorded.events.push('done');
        recorded.summary = event.summary;
        break;
      case 'error':
        recorded.events.push('error');
        recorded.error = event.message;
        break;
      default:
        break;
    }
  };
  return { listener, recorded };
}

let dir = '';
let modelFolder = '';
let requestId = 0;

function request(text: string, extra: Partial<InspectRequest> = {}): InspectRequest {
  return cpuInspectRequest(++requestId, modelFolder, text, extra);
}

before(async () => {
  workerScript = await buildBundle('src/worker/worker.ts', 'worker');
  dir = await makeTempDir();
  modelFolder = (await writeTinyModel(path.join(dir, 'tiny'), { layers: 3, maxPositions: 64 })).folder;
});

/** Every worker made here: the file's process must not exit while a released thread still runs native work. */
const made: InspectorWorker[] = [];

after(async () => {
  await Promise.all(made.map((w) => w.stopped()));
  await removeTempDir(dir);
});

function makeWorker(idleTimeoutMs = 60_000): InspectorWorker {
  const worker = new InspectorWorker({
    workerScript,
    modelsDir: dir,
    cacheDir: path.join(dir, 'cache'),
    idleTimeoutMs,
    testHooks: true,
  });
  made.push(worker);
  return worker;
}

test('the worker streams header, every layer in order, then the summary, as typed arrays', async () => {
  const worker = makeWorker();
  try {
    const { listener, recorded } = recorder();
    await worker.inspect(request('The fox jumps over the dog. The fox jumps again.'), listener).finished;
    assert.equal(recorded.error, undefined);
    assert.deepEqual(recorded.events, ['start', 'layer 0', 'layer 1', 'layer 2', 'done']);
    const n = recorded.header?.tokens.length ?? 0;
    assert.ok(n > 5);
    assert.equal(recorded.header?.model.provider, 'cpu');
    const layer = recorded.layers[0];
    assert.ok(layer.heads.weights instanceof Uint8Array);
    assert.ok(layer.rollout.rowScale instanceof Float32Array);
    assert.ok(layer.received instanceof Float32Array);
    assert.equal(layer.tiles, undefined, 'dense rows are sent: no tiles');
    assert.equal(layer.heads.rows, 4 * n);
    assert.equal(layer.headSummaries.length, 4);
    assert.equal(recorded.summary?.heads.length, 3 * 4);
    assert.ok(recorded.progress.some((p) => p.stage === 'run'));
  } finally {
    worker.dispose();
  }
});

test('a new inspection cancels the previous one: the first settles without results, the second completes', async () => {
  const worker = makeWorker();
  try {
    const first = recorder();
    const second = recorder();
    const handle1 = worker.inspect(request('First text that will be cancelled.'), first.listener);
    const handle2 = worker.inspect(request('Second text that runs to the end.'), second.listener);
    await Promise.all([handle1.finished, handle2.finished]);
    assert.deepEqual(first.recorded.events, []);
    assert.equal(second.recorded.events.at(-1), 'done');
    // Explicit cancel settles the handle and silences the listener.
    const third = recorder();
    const handle3 = worker.inspect(request('Third text.'), third.listener);
    handle3.cancel();
    await handle3.finished;
    assert.ok(!third.recorded.events.includes('done'));
  } finally {
    worker.dispose();
  }
});

test('a crashed worker reports one line to the active inspection and restarts on the next request', async () => {
  const worker = makeWorker();
  try {
    await worker.inspect(request('Warm up the worker.'), recorder().listener).finished;
    const crashed = recorder();
    const handle = worker.inspect(request('This one is interrupted by a crash.'), crashed.listener);
    worker.simulateCrash();
    await handle.finished;
    assert.match(
      crashed.recorded.error ?? '',
      /^The inspector worker stopped unexpectedly \(exit code 70\); it restarts on the next inspection\.$/,
    );
    const after = recorder();
    await worker.inspect(request('After the crash.'), after.listener).finished;
    assert.equal(after.recorded.events.at(-1), 'done');
  } finally {
    worker.dispose();
  }
});

test('bad input and model errors reach the listener as one line', async () => {
  const worker = makeWorker();
  try {
    const cases: [Partial<InspectRequest> & { text: string }, RegExp][] = [
      [{ text: '   \n\t ' }, /only whitespace/],
      [{ text: '' }, /empty/],
      [{ text: 'abc\0def' }, /binary/],
      [{ text: 'x'.repeat(50), maxCharacters: 10 }, /50 characters, more than the limit of 10/],
      [{ text: 'hello', model: path.join(dir, 'missing-model') }, /Model folder not found: .*missing-model/],
    ];
    for (const [extra, pattern] of cases) {
      const { listener, recorded } = recorder();
      await worker.inspect(request(extra.text, extra), listener).finished;
      assert.match(recorded.error ?? '', pattern);
      assert.ok(!(recorded.error ?? '').includes('\n'));
    }
  } finally {
    worker.dispose();
  }
});

test('text longer than the model context is cut to the window with a note', async () => {
  const worker = makeWorker();
  try {
    const text = 'word '.repeat(200);
    for (const window of ['start', 'end'] as const) {
      const { listener, recorded } = recorder();
      await worker.inspect(request(text, { window }), listener).finished;
      assert.equal(recorded.header?.tokens.length, 64);
      assert.match(
        recorded.summary?.notes[0] ?? '',
        new RegExp(`^Inspected the ${window === 'start' ? 'first' : 'last'} 64 of \\d+ tokens\\.$`),
      );
      assert.equal(recorded.header?.tokens[0].special, true, 'BOS kept as token 0');
      if (window === 'end') assert.equal(recorded.header?.tokens.at(-1)?.end, text.length);
    }
  } finally {
    worker.dispose();
  }
});

test('the worker is released after the idle timeout and comes back on demand', async () => {
  const worker = makeWorker(50);
  try {
    await worker.inspect(request('Short.'), recorder().listener).finished;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(worker.isRunning, false);
    const again = recorder();
    await worker.inspect(request('Again.'), again.listener).finished;
    assert.equal(again.recorded.events.at(-1), 'done');
  } finally {
    worker.dispose();
  }
});

test('a Hub model is downloaded by the worker on first use, with download progress in bytes', async () => {
  const hub = await startHubServer({ 'test-org/tiny': modelFolder });
  const worker = new InspectorWorker({
    workerScript,
    modelsDir: dir,
    cacheDir: path.join(dir, 'hub-cache'),
    idleTimeoutMs: 60_000,
    hubEndpoint: hub.endpoint,
  });
  try {
    const { listener, recorded } = recorder();
    await worker.inspect(request('Downloaded, then inspected.', { model: 'test-org/tiny' }), listener).finished;
    assert.equal(recorded.error, undefined);
    assert.equal(recorded.header?.model.id, 'test-org/tiny');
    const downloads = recorded.progress.filter((p) => p.stage === 'download');
    assert.ok(downloads.length > 0);
    assert.ok((downloads.at(-1)?.loadedBytes ?? 0) > 1000);
    assert.equal(downloads.at(-1)?.loadedBytes, downloads.at(-1)?.totalBytes);
  } finally {
    worker.dispose();
    await hub.close();
  }
});

test('with rows on demand above 512 tokens the overview tiles cross the worker boundary instead of rows', async () => {
  const folder = (await writeTinyModel(path.join(dir, 'tiles'), { layers: 3, maxPositions: 2048 })).folder;
  const worker = makeWorker();
  try {
    const { listener, recorded } = recorder();
    const text = 'The fox jumps over the dog. '.repeat(120);
    await worker.inspect(cpuInspectRequest(++requestId, folder, text, { rowsOnDemand: true }), listener).finished;
    assert.equal(recorded.error, undefined);
    const n = recorded.header?.tokens.length ?? 0;
    assert.ok(n > 512, `${n} tokens`);
    const layer = recorded.layers[0];
    assert.equal(layer.heads.weights.length, 0, 'no per-head rows');
    // (heads + 1) grids of T = min(32, n), each row bin summing to 1.
    assert.ok(layer.tiles?.data instanceof Float32Array);
    const T = layer.tiles.size;
    assert.equal(T, 32);
    assert.equal(layer.tiles.data.length, 5 * T * T);
    const meanRow = layer.tiles.data.subarray(4 * T * T, 4 * T * T + T).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(meanRow - 1) < 1e-5, `head-mean row bin 0 sums to ${meanRow}`);
  } finally {
    worker.dispose();
  }
});

test('disposing the worker mid-run or right after it ends the thread without aborting the process', async () => {
  // terminate() while onnxruntime ran a session (or built the row kernel's) for the thread aborted the whole
  // process ("terminate called after throwing an instance of 'Napi::Error'"): the worker now exits by itself.
  const folder = (await writeTinyModel(path.join(dir, 'long'), { layers: 3, maxPositions: 2048 })).folder;
  const text = 'The fox jumps over the dog. '.repeat(200);
  const workers: InspectorWorker[] = [];
  for (const delayMs of [50, 100, 200, 300, 400, 600]) {
    const worker = makeWorker();
    workers.push(worker);
    const handle = worker.inspect(cpuInspectRequest(++requestId, folder, text), () => undefined);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    worker.dispose();
    await handle.finished.catch(() => undefined);
  }
  // Each thread exits by itself once its native work is done (a test timeout otherwise); the process ending
  // before then is what aborted it, so every file's after hook waits for its workers too.
  await Promise.all(workers.map((w) => w.stopped()));
});
