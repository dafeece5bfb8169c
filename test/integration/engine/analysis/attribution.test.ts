// Answer attribution on the embedded model: prompts built here hold the only source of the answer in one
// paragraph (the model's induction heads copy it), so that paragraph must rank first by ablation; the
// leave-one-out delta is checked against the raw onnxruntime session run here, with log-softmax in float64.
import { referenceAnswerLogProbs } from '../../../helpers/referenceLogProbs';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { attributeAnswer, joinAnswer, splitAnswer } from '../../../../src/engine/analysis/attribution';
import { attributionModel } from '../../../../src/engine/analysis/attributionModel';
import type { AttributionModel } from '../../../../src/engine/analysis/attribution';
import { LoadedModel } from '../../../../src/engine/runtime/loadedModel';
import { AttributionCancelled, LogitsSession } from '../../../../src/engine/runtime/logitsSession';
import { LIBRARY_PARAGRAPHS as PARAGRAPHS, LIBRARY_PROMPT as PROMPT } from '../../../helpers/libraryPrompt';
import { makeTempDir, removeTempDir } from '../../../helpers/tinyModel';

const MODEL = path.resolve(__dirname, '..', '..', '..', '..', 'models', 'pa-mini-llama');
let dir = '';
let loaded: LoadedModel;
let logits: LogitsSession;
let raw: ort.InferenceSession;
let model: AttributionModel;

const ANSWER = 'XK-4471';

before(async () => {
  dir = await makeTempDir();
  loaded = await LoadedModel.load(MODEL, { id: 'pa-mini-llama', cacheDir: dir, provider: 'cpu' });
  logits = await LogitsSession.open(MODEL, loaded.config, { provider: 'cpu' });
  raw = await ort.InferenceSession.create(path.join(MODEL, 'onnx', 'model.onnx'));
  model = attributionModel(loaded, logits);
});

after(async () => {
  await logits?.dispose();
  await loaded?.dispose();
  await raw?.release();
  await removeTempDir(dir);
});

/** Sum of log p(answer tokens) from the untouched graph, batch 1, float64 log-softmax. */
async function referenceLogProb(ids: readonly number[], answerStart: number): Promise<number> {
  return (await referenceAnswerLogProbs(raw, ids, answerStart)).reduce((sum, v) => sum + v, 0);
}

test('the paragraph holding the code ranks first by leave-one-out, far ahead of the others', async () => {
  const progress: number[] = [];
  const result = await attributeAnswer(model, PROMPT, { text: ANSWER }, { onProgress: (p) => progress.push(p.done) });
  assert.equal(result.method, 'leave-one-out');
  assert.equal(result.sections.length, 6);
  assert.equal(result.ablations, 6);
  assert.equal(result.answer.text, ` ${ANSWER}`);
  const ranked = [...result.sections].sort((a, b) => a.ablation.logProbDelta - b.ablation.logProbDelta);
  assert.equal(ranked[0].start, PROMPT.indexOf(PARAGRAPHS[1]), `first: ${ranked[0].label}`);
  const others = result.sections.filter((s) => s !== ranked[0] && !s.label.startsWith('Question'));
  for (const s of others)
    assert.ok(ranked[0].ablation.logProbDelta < s.ablation.logProbDelta - 5, `${s.label}: ${s.ablation.logProbDelta}`);
  assert.ok(progress.length >= 3 && progress[progress.length - 1] > progress[0], 'progress goes forward');
  // Savings never list the source, and are measured as a whole.
  assert.ok(!(result.savings?.sections ?? []).includes(ranked[0].index));
  assert.ok(result.faithfulness.passed, 'the model uses the prompt for this answer');
  assert.ok(result.faithfulness.marginNats > 10, `margin ${result.faithfulness.marginNats}`);
  assert.ok(result.savings && result.savings.logProbDelta > -1);
});

test('the leave-one-out delta and the answer log-prob equal the raw session recomputed in float64', async () => {
  const result = await attributeAnswer(model, PROMPT, { text: ANSWER });
  const joined = `${PROMPT} ${ANSWER}`;
  const { ids, tokens } = loaded.tokenizer.tokenize(joined);
  const answerStart = tokens.findIndex((t) => t.end > PROMPT.length);
  const full = await referenceLogProb(ids, answerStart);
  assert.ok(Math.abs(full - result.answer.logProb) < 1e-3, `${full} vs ${result.answer.logProb}`);
  // Leave out the source paragraph: drop the tokens whose first visible character lies in it.
  const from = PROMPT.indexOf(PARAGRAPHS[1]);
  const to = from + PARAGRAPHS[1].length;
  const keep = ids.filter((_, i) => {
    if (i >= answerStart) return true;
    const t = tokens[i];
    const visible = t.start + Math.max(0, t.text.search(/\S/));
    return t.special || t.text.trim() === '' || visible < from || visible >= to;
  });
  const without = await referenceLogProb(keep, answerStart - (ids.length - keep.length));
  const source = result.sections.find((s) => s.start === from);
  assert.ok(source);
  assert.ok(
    Math.abs(without - full - source.ablation.logProbDelta) < 1e-3,
    `${without - full} vs ${source.ablation.logProbDelta}`,
  );
  assert.ok(without - full < -10, 'leaving the source out costs many nats');
});

test('every section delta equals the one from whole runs without the prefix cache', async () => {
  const plain = await LogitsSession.open(MODEL, loaded.config, { provider: 'cpu', noPrefixCache: true });
  try {
    assert.equal(logits.prefixCache, true);
    const shared = await attributeAnswer(model, PROMPT, { text: ANSWER });
    const whole = await attributeAnswer(attributionModel(loaded, plain), PROMPT, { text: ANSWER });
    assert.ok(Math.abs(shared.answer.logProb - whole.answer.logProb) < 1e-4);
    assert.equal(shared.sections.length, whole.sections.length);
    shared.sections.forEach((s, i) => {
      const w = whole.sections[i];
      assert.ok(Math.abs(s.ablation.logProbDelta - w.ablation.logProbDelta) < 1e-4, `${s.label}`);
      assert.ok(Math.abs(s.attentionShare - w.attentionShare) < 1e-5, `${s.label} share`);
      // The tapped run's rows are 8-bit (attentionEncoding.ts); the cached pass's are float32.
      assert.ok(Math.abs(s.attention - w.attention) < 5e-3, `${s.label}: ${s.attention} vs ${w.attention}`);
    });
    assert.deepEqual(
      shared.savings,
      whole.savings === null ? null : { ...whole.savings, logProbDelta: shared.savings?.logProbDelta },
    );
    // The attention comes from the whole prompt's scoring pass: one forward pass fewer.
    assert.equal(shared.forwardPasses, whole.forwardPasses - 1);
  } finally {
    await plain.dispose();
  }
});

test('random ablations with the sparse surrogate also put the source first, and report their number', async () => {
  const result = await attributeAnswer(
    model,
    PROMPT,
    { text: ANSWER },
    { method: 'random-ablation', ablations: 40, seed: 7 },
  );
  assert.equal(result.method, 'random-ablation');
  assert.equal(result.ablations, 40);
  const first = [...result.sections].sort((a, b) => a.ablation.logProbDelta - b.ablation.logProbDelta)[0];
  assert.equal(first.start, PROMPT.indexOf(PARAGRAPHS[1]), first.label);
});

test('attention-based attribution sits beside it: shares of the answer rows, between 0 and 1', async () => {
  const result = await attributeAnswer(model, PROMPT, { text: ANSWER });
  const total = result.sections.reduce((s, x) => s + x.attention, 0);
  assert.ok(total > 0.2 && total <= 1.0001, `total ${total}`);
  assert.ok(result.sections.every((s) => s.attentionShare >= 0 && s.attentionShare <= 1));
  assert.ok(result.sections.some((s) => s.disagreement === null));
});

test('a greedy answer: --generate N gives at most N tokens, decoded', async () => {
  const result = await attributeAnswer(model, PROMPT, { generate: 3 });
  assert.ok(result.answer.tokens >= 1 && result.answer.tokens <= 3);
  assert.ok(result.answer.text.length > 0);
});

test('bad input: an empty answer, an answer beyond the context; cancellation stops the run', async () => {
  await assert.rejects(attributeAnswer(model, PROMPT, { text: '  \n' }), /answer is empty/);
  await assert.rejects(
    attributeAnswer(model, PROMPT, { text: 'word '.repeat(2100) }),
    /more than the model's context of 2048/,
  );
  await assert.rejects(
    attributeAnswer(model, PROMPT, { text: ANSWER }, { isCancelled: () => true }),
    AttributionCancelled,
  );
});

test('the separator line splits prompt and answer; a space joins words at the seam', () => {
  assert.deepEqual(splitAnswer('Q: code?\nA:\n---answer---\nXK-4471\n'), {
    prompt: 'Q: code?\nA:',
    answer: 'XK-4471\n',
  });
  assert.equal(splitAnswer('no separator'), null);
  assert.deepEqual(joinAnswer('A:', 'XK\n'), { text: 'A: XK', boundary: 2 });
  assert.deepEqual(joinAnswer('A: ', 'XK'), { text: 'A: XK', boundary: 3 });
});
