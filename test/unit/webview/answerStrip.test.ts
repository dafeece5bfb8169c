// The answer strip's reducer and the row an answer token shows: tokens of the current answer append (text
// tiled by their offsets), tokens of another inspection are dropped, the end says done, stopped or failed;
// the focus row is the mean over heads and layers (or one of them), summing to 1 like the rows it averages.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  answerFocusRow,
  answerRequestOf,
  answerShowsRollout,
  answerShowsValueNorm,
  fileLabel,
  attributionShading,
  noAnswer,
  reduceAnswer,
  type AnswerState,
} from '../../../webview/model/answerStrip';

/** A token whose two layers' rows of two heads each put all weight on key `a` (head 0) and key `b` (head 1). */
function token(index: number, text: string, start: number, keys: number, a: number, b: number) {
  const layer = (): Float32Array => {
    const rows = new Float32Array(2 * keys);
    rows[a] = 1;
    rows[keys + b] = 1;
    return rows;
  };
  return {
    kind: 'answer' as const,
    requestId: 3,
    event: 'token' as const,
    token: { index, id: 10 + index, text, start, end: start + text.length, keys, rows: [layer(), layer()] },
  };
}

test('tokens append to the current answer, and the end says how it ended', () => {
  let s: AnswerState = reduceAnswer(noAnswer, { kind: 'answer', requestId: 3, event: 'start', maxTokens: 8 });
  s = reduceAnswer(s, token(0, ' Paris', 0, 6, 1, 5));
  s = reduceAnswer(s, { ...token(1, 'x', 6, 7, 0, 0), requestId: 2 });
  s = reduceAnswer(s, token(1, '.', 6, 7, 6, 2));
  assert.equal(s.text, ' Paris.');
  assert.deepEqual(
    s.tokens.map((t) => [t.start, t.end]),
    [
      [0, 6],
      [6, 7],
    ],
  );
  assert.equal(reduceAnswer(s, { kind: 'answer', requestId: 3, event: 'end', stopped: true }).phase, 'stopped');
  const failed = reduceAnswer(s, { kind: 'answer', requestId: 3, event: 'end', error: 'Model run failed' });
  assert.equal(failed.phase, 'error');
  assert.equal(failed.error, 'Model run failed');
  assert.equal(reduceAnswer(s, { kind: 'answer-hover', index: 1 }).hover, 1);
  assert.equal(reduceAnswer(s, { kind: 'answer-hover', index: 5 }).hover, null);
});

test('the focus row: mean over heads and layers, or one head', () => {
  const t = { ...token(0, 'a', 0, 4, 1, 3).token, kind: undefined };
  const mean = answerFocusRow(t, 'all', 'mean');
  assert.deepEqual([...mean], [0, 0.5, 0, 0.5]);
  assert.deepEqual([...answerFocusRow(t, 0, 1)], [0, 0, 0, 1]);
  assert.deepEqual([...answerFocusRow(t, 1, 'max')], [0, 1, 0, 1]);
});

test('in Rollout mode an answer token shows its rollout up to the chosen layer, kept through the reducer', () => {
  const base = token(0, 'a', 0, 3, 0, 2);
  const rollout = [Float32Array.of(0.2, 0.3, 0.5), Float32Array.of(0.1, 0.1, 0.8)];
  const started = reduceAnswer(noAnswer, { kind: 'answer', requestId: 3, event: 'start', maxTokens: 4 });
  const state = reduceAnswer(started, { ...base, token: { ...base.token, rollout } });
  const t = state.tokens[0];
  assert.ok(answerShowsRollout(t, 'rollout'));
  assert.deepEqual([...answerFocusRow(t, 0, 'mean', 'rollout')], [...rollout[0]]);
  // 'all' layers: the rollout through the last layer, whatever the head.
  assert.deepEqual([...answerFocusRow(t, 'all', 1, 'rollout')], [...rollout[1]]);
  // Attention mode still reads the rows; a token without a rollout falls back to them.
  assert.deepEqual([...answerFocusRow(t, 0, 1, 'attention')], [0, 0, 1]);
  const plain = { ...base.token, kind: undefined };
  assert.equal(answerShowsRollout(plain, 'rollout'), false);
  assert.deepEqual([...answerFocusRow(plain, 0, 1, 'rollout')], [0, 0, 1]);
});

test('in "Attention × value norm" mode an answer token shows its weighted rows, combined like attention', () => {
  const base = token(0, 'a', 0, 2, 0, 1);
  // Two heads over two keys, per layer: the value norms moved head 0's weight to key 1.
  const weighted = [Float32Array.of(0.25, 0.75, 0, 1), Float32Array.of(0.5, 0.5, 0, 1)];
  const started = reduceAnswer(noAnswer, { kind: 'answer', requestId: 3, event: 'start', maxTokens: 4 });
  const t = reduceAnswer(started, { ...base, token: { ...base.token, valueNorm: weighted } }).tokens[0];
  assert.ok(answerShowsValueNorm(t, 'value-norm'));
  assert.equal(answerShowsValueNorm(t, 'attention'), false);
  assert.deepEqual([...answerFocusRow(t, 0, 0, 'value-norm')], [0.25, 0.75]);
  assert.deepEqual([...answerFocusRow(t, 'all', 'mean', 'value-norm')], [0.1875, 0.8125]);
  // Attention mode reads the plain rows (head 0 all on key 0).
  assert.deepEqual([...answerFocusRow(t, 0, 0, 'attention')], [1, 0]);
});

test("a span's attribution: kept by the strip, and shading each prompt token by its section's cost", () => {
  let s: AnswerState = reduceAnswer(noAnswer, { kind: 'answer', requestId: 3, event: 'start', maxTokens: 8 });
  s = reduceAnswer(s, { kind: 'answer', requestId: 3, event: 'attributing', message: 'Ablation 1 of 2' });
  assert.equal(s.attributing, 'Ablation 1 of 2');
  s = reduceAnswer(s, {
    kind: 'answer',
    requestId: 3,
    event: 'attribution',
    span: { start: 0, end: 5, text: 'Paris' },
    sections: [
      { start: 0, logProbDelta: -4, words: '', disagreement: null },
      { start: 10, logProbDelta: 1.5, words: '', disagreement: 'the span is more likely without it' },
    ],
    verdict: '',
    passed: true,
  });
  assert.equal(s.attributing, undefined);
  assert.ok(s.attribution);
  // Tokens 0 (BOS, no section), 1–2 in section 0, 3 in section 1.
  const { vector, max } = attributionShading(s.attribution, [0, 10], Int32Array.of(-1, 0, 0, 1), 4);
  assert.deepEqual([...vector], [0, 4, 4, 0]);
  assert.equal(max, 4);
  const failed = reduceAnswer(s, { kind: 'answer', requestId: 3, event: 'attribution-failed', error: 'no' });
  assert.equal(failed.attributionError, 'no');
});

test('a finished answer is asked for again after a window reload: the same sampling, or the text’s own', () => {
  let s: AnswerState = reduceAnswer(noAnswer, {
    kind: 'answer',
    requestId: 3,
    event: 'start',
    maxTokens: 8,
    temperature: 0.7,
    seed: 4,
  });
  s = reduceAnswer(s, token(0, ' Paris', 0, 6, 1, 5));
  assert.equal(answerRequestOf(s), null, 'not while it is being written');
  const stopped = reduceAnswer(s, { kind: 'answer', requestId: 3, event: 'end', stopped: true });
  assert.deepEqual(answerRequestOf(stopped), { maxTokens: 1, temperature: 0.7, seed: 4 });
  assert.equal(answerRequestOf(reduceAnswer(s, { kind: 'answer', requestId: 3, event: 'end', error: 'x' })), null);
  let given = reduceAnswer(noAnswer, { kind: 'answer', requestId: 3, event: 'start', maxTokens: 0, given: true });
  given = reduceAnswer(given, token(0, ' Paris', 0, 6, 1, 5));
  given = reduceAnswer(given, { kind: 'answer', requestId: 3, event: 'end' });
  assert.deepEqual(answerRequestOf(given), { given: true });
  // An answer from a file: the reload reads that file again.
  let fromFile = reduceAnswer(noAnswer, {
    kind: 'answer',
    requestId: 3,
    event: 'start',
    maxTokens: 0,
    given: true,
    file: 'file:///work/notes/answer%201.txt',
  });
  assert.equal(fromFile.file, 'file:///work/notes/answer%201.txt');
  fromFile = reduceAnswer(fromFile, token(0, ' Paris', 0, 6, 1, 5));
  fromFile = reduceAnswer(fromFile, { kind: 'answer', requestId: 3, event: 'end' });
  assert.deepEqual(answerRequestOf(fromFile), { given: true, file: 'file:///work/notes/answer%201.txt' });
  assert.equal(fileLabel('file:///work/notes/answer%201.txt'), 'answer 1.txt');
  assert.equal(fileLabel('file:///work/bad%E0.txt'), 'bad%E0.txt');
});
