// Attribute Answer and Diff Sections as requests of the inspector's worker (the real bundle, the embedded
// model): the report is the one the CLI's in-process path builds, progress comes as numbered ablation
// steps, the model stays warm for the next request, a cancelled attribution rejects as cancelled and the
// worker serves the next request, and the diff of identical texts is null.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { attributionReport, ExplainSessions, ModelCache, sectionDiffReport } from '../../../src/engine/inspectApi';
import type { ExplainEvent } from '../../../src/shared/explainReport';
import { RequestFailed } from '../../../src/shared/requestReply';
import { InspectorWorker } from '../../../src/worker/inspectorWorker';
import { buildBundle } from '../../helpers/buildBundle';
import { LIBRARY_PROMPT } from '../../helpers/libraryPrompt';
import { makeTempDir, removeTempDir } from '../../helpers/tinyModel';

const MODELS = path.resolve(__dirname, '..', '..', '..', 'models');
const MODEL = path.join(MODELS, 'pa-mini-llama');
let dir = '';
let worker: InspectorWorker;

before(async () => {
  dir = await makeTempDir();
  worker = new InspectorWorker({
    workerScript: await buildBundle('src/worker/worker.ts', 'worker-explain'),
    modelsDir: MODELS,
    cacheDir: path.join(dir, 'cache'),
    idleTimeoutMs: 60_000,
  });
});
after(async () => {
  worker.dispose();
  await removeTempDir(dir);
});

const choice = { model: MODEL, provider: 'cpu' as const };
const params = { ...choice, prompt: LIBRARY_PROMPT, answer: { text: ' XK-4471' } };

test('attribution in the worker: the in-process report, numbered progress, warm on the second run', async () => {
  const events: ExplainEvent[] = [];
  const report = await worker.attribute(params, (e) => events.push(e)).result;
  const steps = events.filter((e) => e.kind === 'step').map((e) => e.message);
  assert.ok(steps.includes('Ablation 6 of 6'), steps.join(' | '));
  assert.ok(
    events.some((e) => e.kind === 'load'),
    'the first request reports the model loading',
  );

  const cache = new ModelCache({ modelsDir: MODELS, cacheDir: path.join(dir, 'cache') });
  const sessions = new ExplainSessions(cache);
  try {
    const local = await attributionReport(await sessions.get(choice), params);
    assert.deepEqual(report, local);
  } finally {
    await sessions.release();
    await cache.release();
  }

  const again: ExplainEvent[] = [];
  const second = await worker.attribute(params, (e) => again.push(e)).result;
  assert.deepEqual(second.sections, report.sections);
  assert.ok(!again.some((e) => e.kind === 'load' && e.progress.stage === 'prepare'), 'no second preparation');
});

test('a cancelled attribution rejects as cancelled; the worker then serves a diff', async () => {
  let cancel = (): void => undefined;
  const handle = worker.attribute(params, (e) => {
    if (e.kind === 'step' && e.done >= 1) cancel();
  });
  cancel = handle.cancel;
  await assert.rejects(handle.result, (e: unknown) => e instanceof RequestFailed && e.cancelled);

  const oldText = 'Rules.\n\nBe brief.\n\nAnswer in English.';
  const newText = 'Rules.\n\nBe brief and kind.\n\nAnswer in English.\n\nCite sources.';
  const diff = await worker.sectionDiff({ ...choice, oldText, newText, answer: null }, () => undefined).result;
  assert.ok(diff);
  assert.deepEqual(
    diff.sections.map((s) => s.status),
    ['same', 'changed', 'same', 'added'],
  );
  assert.equal(
    await worker.sectionDiff({ ...choice, oldText, newText: oldText, answer: null }, () => undefined).result,
    null,
  );
});

test('the in-process diff and the worker diff agree', async () => {
  const oldText = 'One.\n\nTwo.';
  const newText = 'One.\n\nThree.';
  const remote = await worker.sectionDiff({ ...choice, oldText, newText, answer: null }, () => undefined).result;
  const cache = new ModelCache({ modelsDir: MODELS, cacheDir: path.join(dir, 'cache') });
  const sessions = new ExplainSessions(cache);
  try {
    assert.deepEqual(remote, await sectionDiffReport(await sessions.get(choice), { oldText, newText, answer: null }));
  } finally {
    await sessions.release();
    await cache.release();
  }
});
