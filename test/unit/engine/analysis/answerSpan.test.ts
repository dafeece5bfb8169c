// Which answer tokens a character span covers, and the answer tokens' offsets in the decoded answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerTokens, spanMask } from '../../../../src/engine/analysis/answerSpan';

const SPANS = [
  { start: 0, end: 3 },
  { start: 3, end: 7 },
  { start: 7, end: 12 },
];

test('a token counts when it overlaps the span', () => {
  assert.deepEqual([...spanMask(SPANS, { start: 4, end: 5 }, 12)], [0, 1, 0]);
  assert.deepEqual([...spanMask(SPANS, { start: 2, end: 8 }, 12)], [1, 1, 1]);
  assert.deepEqual([...spanMask(SPANS, { start: 7, end: 12 }, 12)], [0, 0, 1]);
});

test('a span outside the answer, empty or reversed is one line', () => {
  assert.throws(() => spanMask(SPANS, { start: 5, end: 13 }, 12), /ends past the answer's 12 characters/);
  assert.throws(() => spanMask(SPANS, { start: 5, end: 5 }, 12), /START < END/);
  assert.throws(() => spanMask([{ start: 0, end: 0 }], { start: 0, end: 1 }, 1), /covers no answer token/);
});

test("answer tokens tile the decoded text, a split character's bytes land on the token that completes it", () => {
  // A toy decoder: ids are strings' pieces; id 9 is half of "é" (a replacement character alone).
  const pieces: Record<number, string> = { 1: 'ca', 2: 'f', 3: '\u00e9', 4: '!' };
  const decode = (ids: readonly number[]): string => {
    const text = ids.map((id) => (id === 9 ? '' : (pieces[id] ?? ''))).join('');
    return ids[ids.length - 1] === 9 ? `${text}\ufffd` : text;
  };
  const tokens = answerTokens([1, 2, 9, 3, 4], decode);
  assert.deepEqual(
    tokens.map((t) => [t.start, t.end, t.text]),
    [
      [0, 2, 'ca'],
      [2, 3, 'f'],
      [3, 3, ''],
      [3, 4, '\u00e9'],
      [4, 5, '!'],
    ],
  );
});
