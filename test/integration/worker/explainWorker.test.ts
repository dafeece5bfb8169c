// Attribute Answer and Diff Sections as requests of the inspector's worker (the real bundle, the embedded
// model): the report is the one the CLI's in-process path builds, progress comes as numbered ablation
// steps, the model stays warm for the next request, a cancelled attribution rejects as cancelled and the
// worker serves the next request, and the diff of identical texts is null. Generate streams its tokens with
// their rows (transferred), the same greedy answer twice, and stops between tokens when cancelled.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { attributionReport, ExplainSessions, ModelCache, sectionDiffReport } from '../../../src/engine/inspectApi';
import type { AnswerTokenEvent, ExplainEvent } from '../../../src/shared/explainReport';
import { RequestFailed } from '../../../src/shared/requestReply';
import type { InspectorWorker } from '../../../src/worker/inspectorWorker';
import { LIBRARY_PROMPT } from '../../helpers/libraryPrompt';
import { startTestWorker, stopTestWorker } from '../../helpers/testWorker';

const MODELS = path.resolve(__dirname, '..', '..', '..', 'models');
const MODEL = path.join(MODELS, 'pa-mini-llama');
let dir = '';
let worker: InspectorWorker;

before(async () => {
  ({ worker, dir } = await startTestWorker('worker-explain', MODELS));
});
after(() => stopTestWorker({ worker, dir }));

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

test('generate in the worker: tokens stream with their rows, greedy repeats, cancel stops between tokens', async () => {
  const promptIds = [8190, 300, 41, 1200, 77, 15, 900];
  const streamed: AnswerTokenEvent[] = [];
  const reply = await worker.generate({ ...choice, promptIds, maxTokens: 5, temperature: 0, seed: 1 }, (e) => {
    if ('rows' in e) streamed.push(e);
  }).result;
  assert.equal(streamed.length, reply.tokens.length);
  assert.deepEqual(
    streamed.map((t) => t.id),
    reply.tokens.map((t) => t.id),
  );
  streamed.forEach((t, i) => {
    assert.equal(t.keys, promptIds.length + i + 1);
    assert.equal(t.rows.length, 4);
    assert.equal(t.rows[0].length, 8 * t.keys);
  });
  assert.equal(streamed.map((t) => t.text).join(''), reply.text);
  const again = await worker.generate({ ...choice, promptIds, maxTokens: 5, temperature: 0, seed: 1 }, () => undefined)
    .result;
  assert.deepEqual(again.tokens, reply.tokens);

  let count = 0;
  let stop = (): void => undefined;
  const handle = worker.generate({ ...choice, promptIds, maxTokens: 40, temperature: 0, seed: 1 }, (e) => {
    if ('rows' in e && ++count === 2) stop();
  });
  stop = handle.cancel;
  await assert.rejects(handle.result, (e: unknown) => e instanceof RequestFailed && e.cancelled);
  assert.equal(count, 2);
  // The stopped generation leaves the worker serving: a request queued behind it is answered (and the
  // worker is idle again before the suite disposes it: terminating a thread inside onnxruntime aborts).
  const same = { ...choice, oldText: 'a', newText: 'a', answer: null };
  assert.equal(await worker.sectionDiff(same, () => undefined).result, null);
});
