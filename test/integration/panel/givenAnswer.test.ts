// The answer strip's given answer through the host and the real worker (the bundle, the embedded model): the
// text after `---answer---` is read after the text before it, streamed as tokens with their rows, and a span
// of it is attributed against that prompt (not the whole inspected text) — the report the worker gives for
// that prompt and answer directly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { AnswerStripHost } from '../../../src/panel/answerStripHost';
import type { Log } from '../../../src/shared/log';
import type { AnswerMessage } from '../../../src/shared/protocol';
import type { InspectorWorker } from '../../../src/worker/inspectorWorker';
import { syntheticResult } from '../../helpers/syntheticResult';
import { startTestWorker, stopTestWorker } from '../../helpers/testWorker';

const MODELS = path.resolve(__dirname, '..', '..', '..', 'models');
const choice = { model: path.join(MODELS, 'pa-mini-llama'), provider: 'cpu' as const };
const PROMPT = 'Rules.\n\nThe code is XK-4471.\n\nWhat is the code?';
const TEXT = `${PROMPT}\n---answer---\nThe code is XK-4471.\n`;
let dir = '';
let worker: InspectorWorker;

before(async () => {
  ({ worker, dir } = await startTestWorker('worker-given', MODELS));
});
after(() => stopTestWorker({ worker, dir }));

test('the given answer is read into the strip, and its span is attributed to the prompt before ---answer---', async () => {
  const {
    layers: _layers,
    summary: _summary,
    source: _source,
    ...header
  } = syntheticResult(TEXT, {
    layers: 2,
    heads: 2,
  });
  const posted: AnswerMessage[] = [];
  const errors: unknown[] = [];
  const log: Log = { info: () => undefined, warn: () => undefined, error: (m, e) => errors.push(`${m}: ${String(e)}`) };
  const host = new AnswerStripHost(
    {
      current: () => ({ requestId: 1, header }),
      explainTarget: async () => ({ worker, choice }),
      post: (m) => posted.push(m),
    },
    log,
  );
  await host.readGiven();
  assert.deepEqual(errors, []);
  const start = posted.find((m) => m.event === 'start');
  assert.ok(start && start.event === 'start' && start.given === true);
  const tokens = posted.flatMap((m) => (m.event === 'token' ? [m.token] : []));
  assert.ok(tokens.length >= 5);
  const text = tokens.map((t) => t.text).join('');
  assert.equal(text.trim(), 'The code is XK-4471.');
  // Each token's rows run over the prompt before the separator and the answer up to it.
  const promptKeys = tokens[0].keys - 1;
  tokens.forEach((t, i) => assert.equal(t.keys, promptKeys + i + 1));
  assert.ok(promptKeys < header.tokens.length, 'the separator line and the answer are not in the prompt');
  const end = posted.find((m) => m.event === 'end');
  assert.ok(end && end.event === 'end' && !end.error, JSON.stringify(end));

  const span = { start: text.indexOf('XK'), end: text.indexOf('.', text.indexOf('XK')) };
  await host.attributeSpan({ type: 'attribute-span', ...span });
  const attribution = posted.find((m) => m.event === 'attribution');
  assert.ok(attribution && attribution.event === 'attribution', JSON.stringify(posted.at(-1)));
  const direct = await worker.attribute(
    { ...choice, prompt: PROMPT, answer: { text: text.trimEnd() }, span },
    () => undefined,
  ).result;
  assert.deepEqual(
    attribution.sections.map((s) => s.logProbDelta),
    direct.sections.map((s) => s.ablation.logProbDelta),
  );
  // A reloaded webview gets the strip back: everything but the transient progress, in order.
  assert.deepEqual(
    host.replay(1),
    posted.filter((m) => m.event !== 'attributing'),
  );
  assert.deepEqual(host.replay(2), [], 'nothing for another inspection');
  host.dispose();
});
