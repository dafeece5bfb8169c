// attribute --span on the embedded model: an answer that copies two facts from two paragraphs; the span over
// each fact puts the paragraph holding that fact first, the JSON names the span, and a bad span is one line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { attributionReport, ExplainSessions, ModelCache, type ExplainSession } from '../../../src/engine/inspectApi';
import { LIBRARY_PARAGRAPHS, LIBRARY_PROMPT } from '../../helpers/libraryPrompt';
import { makeTempDir, removeTempDir } from '../../helpers/tinyModel';

const MODELS = path.resolve(__dirname, '..', '..', '..', 'models');
let dir = '';
let cache: ModelCache;
let sessions: ExplainSessions;
let session: ExplainSession;

before(async () => {
  dir = await makeTempDir();
  cache = new ModelCache({ modelsDir: MODELS, cacheDir: dir });
  sessions = new ExplainSessions(cache);
  session = await sessions.get({ model: path.join(MODELS, 'pa-mini-llama'), provider: 'cpu' });
});
after(async () => {
  await sessions.release();
  await cache.release();
  await removeTempDir(dir);
});

const ANSWER = ' XK-4471. Visitors may borrow up to five books at a time.';

test('the span over each fact puts the paragraph holding it first', async () => {
  const code = ANSWER.indexOf('XK-4471');
  const books = ANSWER.indexOf('five books');
  const first = async (start: number, end: number) => {
    const report = await attributionReport(session, {
      prompt: LIBRARY_PROMPT,
      answer: { text: ANSWER.trim() },
      span: { start, end },
    });
    assert.deepEqual(report.span, { start, end, text: ANSWER.slice(start, end) });
    return [...report.sections].sort((a, b) => a.ablation.logProbDelta - b.ablation.logProbDelta)[0];
  };
  const forCode = await first(code, code + 'XK-4471'.length);
  assert.equal(forCode.start, LIBRARY_PROMPT.indexOf(LIBRARY_PARAGRAPHS[1]), forCode.label);
  const forBooks = await first(books, books + 'five books'.length);
  assert.equal(forBooks.start, LIBRARY_PROMPT.indexOf(LIBRARY_PARAGRAPHS[2]), forBooks.label);
});

test('a span past the answer is one line', async () => {
  await assert.rejects(
    attributionReport(session, { prompt: LIBRARY_PROMPT, answer: { text: 'XK-4471' }, span: { start: 2, end: 40 } }),
    /ends past the answer's 8 characters/,
  );
});
