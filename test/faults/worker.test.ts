// Faults in the worker and in onnxruntime: the worker killed mid-stream, onnxruntime throwing inside run,
// and 50 inspections fired within 5 s. Each case ends with an inspection that works and a cache with
// nothing half-written.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { makeTempDir, removeTempDir, writeTinyModel } from '../helpers/tinyModel';
import {
  assertClean,
  assertNothingHalfWritten,
  assertOneLine,
  inspect,
  makeWorker,
  recorder,
  request,
  TEXT,
  settledRss,
} from './faultKit';

let dir = '';
let model = '';
let other = '';
let short = '';

before(async () => {
  dir = await makeTempDir('pa-faults-');
  model = (await writeTinyModel(path.join(dir, 'tiny'), { layers: 3, maxPositions: 128 })).folder;
  other = (await writeTinyModel(path.join(dir, 'other'), { layers: 2, maxPositions: 128 })).folder;
  // onnxruntime throws inside run: config.json promises 256 positions, the graph's rotary table has 8.
  short = (await writeTinyModel(path.join(dir, 'short'), { layers: 2, maxPositions: 8 })).folder;
  const configFile = path.join(short, 'config.json');
  const config = JSON.parse(await fs.readFile(configFile, 'utf8')) as Record<string, unknown>;
  await fs.writeFile(configFile, JSON.stringify({ ...config, max_position_embeddings: 256 }));
});

after(() => removeTempDir(dir));

test('the worker killed mid-stream: one line, and the next inspection works in a fresh worker', async () => {
  const cache = path.join(dir, 'cache-kill');
  const worker = await makeWorker(cache, dir);
  try {
    // Killed once the header is out, while the model runs: the layers never come.
    const { sink, outcome: killed } = recorder();
    await worker.inspect(request(model, TEXT), (event) => {
      sink(event);
      if (event.kind === 'header') worker.simulateCrash();
    }).finished;
    assertOneLine(killed.error, /inspector worker stopped unexpectedly .*restarts on the next inspection/);
    assert.ok(killed.header, 'the crash came before the stream started');
    assert.ok(killed.layers.length < 3, 'the stream went on after the crash');
    assert.equal(killed.summary, undefined);
    assert.equal(worker.isRunning, false);
    assertClean(await inspect(worker, request(model, TEXT)), 3);
    assertNothingHalfWritten(cache);
  } finally {
    worker.dispose();
  }
});

test('onnxruntime throws inside run: one line naming the failed run; the same worker inspects the next model', async () => {
  const cache = path.join(dir, 'cache-run');
  const worker = await makeWorker(cache, dir);
  try {
    const failed = await inspect(worker, request(short, TEXT));
    assertOneLine(failed.error, /run failed|Model run/i);
    assert.equal(failed.layers.length, 0);
    assert.equal(worker.isRunning, true, 'a run error must not take the worker down');
    assertClean(await inspect(worker, request(model, TEXT)), 3);
    assertNothingHalfWritten(cache);
  } finally {
    worker.dispose();
  }
});

test('50 inspections fired within 5 s: the last one wins, the others end quietly, RSS returns to its baseline (±10 %)', async (t) => {
  const cache = path.join(dir, 'cache-burst');
  const worker = await makeWorker(cache, dir);
  try {
    // Baseline: both models' sessions created once (each switch releases the other's), and the burst's
    // pattern of models and lengths run once in turn, so the allocator's first sizing is not read as growth.
    for (let i = 0; i < 8; i++) {
      const folder = i % 3 === 0 ? other : model;
      assertClean(
        await inspect(worker, request(folder, `${TEXT} `.repeat(1 + (i % 4)) + `#w${i}`)),
        folder === other ? 2 : 3,
      );
    }
    assertClean(await inspect(worker, request(model, TEXT)), 3);
    const baseline = await settledRss(worker);
    const outcomes = [];
    const finished: Promise<void>[] = [];
    const started = Date.now();
    for (let i = 0; i < 50; i++) {
      const { sink, outcome } = recorder();
      // Alternate models and lengths, so cancelled runs release sessions while others load.
      const folder = i % 3 === 0 ? other : model;
      finished.push(worker.inspect(request(folder, `${TEXT} `.repeat(1 + (i % 4)) + `#${i}`), sink).finished);
      outcomes.push(outcome);
      await new Promise((resolve) => setTimeout(resolve, 80));
    }
    // 80 ms apart: 4 s of firing (recorded, not asserted: a loaded machine stretches timers).
    const firedMs = Date.now() - started;
    await Promise.all(finished);
    const last = outcomes[49];
    assertClean(last, 3);
    assert.ok(last.header?.text.endsWith('#49'), 'the last result is not the last request');
    for (const outcome of outcomes.slice(0, 49)) {
      // Superseded inspections never report an error, and never finish after a later one started.
      assert.equal(outcome.error, undefined, `a superseded inspection failed: ${outcome.error}`);
    }
    // Let the worker finish discarded runs, then compare.
    assertClean(await inspect(worker, request(model, TEXT)), 3);
    const end = await settledRss(worker);
    const growth = (end - baseline) / baseline;
    t.diagnostic(
      `burst: fired in ${firedMs} ms; RSS ${(baseline / 2 ** 20).toFixed(0)} MiB before, ${(end / 2 ** 20).toFixed(0)} MiB after (${(growth * 100).toFixed(1)} %)`,
    );
    assert.ok(
      Math.abs(growth) <= 0.1,
      `RSS ${(baseline / 2 ** 20).toFixed(0)} MiB → ${(end / 2 ** 20).toFixed(0)} MiB (${(growth * 100).toFixed(1)} %)`,
    );
    assertNothingHalfWritten(cache);
  } finally {
    worker.dispose();
  }
});
