// diffTexts finds the one edit between two texts (checked against a character-by-character scan, across the
// block size it compares in), and applyEdit replays it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdit, diffTexts } from '../../../src/cost/textEdit';
import { seededRandom } from '../../../src/shared/seededRandom';

function naivePrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

function naiveSuffix(a: string, b: string, limit: number): number {
  let n = 0;
  while (n < limit && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

test('the edit between two texts is their common prefix and suffix, and replays exactly', () => {
  const random = seededRandom(11);
  const alphabet = 'ab \n漢😀';
  const make = (length: number) =>
    Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  for (let i = 0; i < 300; i++) {
    const old = make(Math.floor(random() * (i % 3 === 0 ? 20_000 : 50)));
    const at = Math.floor(random() * (old.length + 1));
    const removed = Math.floor(random() * Math.min(9000, old.length - at + 1));
    const text = old.slice(0, at) + make(Math.floor(random() * 5)) + old.slice(at + removed);
    const edit = diffTexts(old, text);
    const prefix = naivePrefix(old, text);
    assert.equal(edit.start, prefix, `case ${i}`);
    assert.equal(
      old.length - edit.end,
      naiveSuffix(old, text, Math.min(old.length, text.length) - prefix),
      `case ${i}`,
    );
    assert.equal(applyEdit(old, edit), text);
  }
  assert.deepEqual(diffTexts('same', 'same'), { start: 4, end: 4, insert: '' });
  assert.deepEqual(diffTexts('', 'new'), { start: 0, end: 0, insert: 'new' });
  assert.deepEqual(diffTexts('aaa', 'aa'), { start: 2, end: 3, insert: '' });
});
