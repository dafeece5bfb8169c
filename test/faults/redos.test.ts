// A downloaded tokenizer.json whose pre-tokenizer pattern backtracks catastrophically on the text (ReDoS):
// the host's watchdog ends the worker once tokenizing runs past its bound, the user gets one line, and the
// next inspection runs in a fresh worker.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { makeTempDir, removeTempDir, writeTinyModel } from '../helpers/tinyModel';
import { assertClean, assertOneLine, inspect, request, workerBundle } from './faultKit';
import { InspectorWorker } from '../../src/worker/inspectorWorker';

let dir = '';
let good = '';
let hostile = '';

before(async () => {
  dir = await makeTempDir('pa-faults-redos-');
  good = (await writeTinyModel(path.join(dir, 'good'), { layers: 2, maxPositions: 128 })).folder;
  hostile = (await writeTinyModel(path.join(dir, 'hostile'), { layers: 2, maxPositions: 128 })).folder;
  const file = path.join(hostile, 'tokenizer.json');
  const json = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  // (a+)+$ against a run of a's that ends in something else: exponential backtracking.
  json.pre_tokenizer = { type: 'Split', pattern: { Regex: '(a+)+$' }, behavior: 'Isolated', invert: false };
  await fs.writeFile(file, JSON.stringify(json));
});

after(() => removeTempDir(dir));

test(
  'a catastrophic pre-tokenizer regex hits the time bound: one line, the worker restarted, the next inspection works',
  { timeout: 120_000 },
  async () => {
    const worker = new InspectorWorker({
      workerScript: await workerBundle(),
      modelsDir: dir,
      cacheDir: path.join(dir, 'cache'),
      idleTimeoutMs: 600_000,
      tokenizeTimeoutMs: 1500,
    });
    try {
      // Harmless text loads the hostile model (and proves the pattern itself is accepted).
      assertClean(await inspect(worker, request(hostile, 'b b b')), 2);
      const started = Date.now();
      const stuck = await inspect(worker, request(hostile, `${'a'.repeat(40)}!`));
      assertOneLine(stuck.error, /Tokenizing took longer than 2 s .*tokenizer\.json.*worker was restarted/);
      assert.equal(stuck.header, undefined);
      assert.equal(worker.isRunning, false, 'the stuck worker was not ended');
      assert.ok(Date.now() - started < 60_000);
      assertClean(await inspect(worker, request(good, 'The fox jumps over the dog.')), 2);
    } finally {
      worker.dispose();
      await worker.stopped();
    }
  },
);
