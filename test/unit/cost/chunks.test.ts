import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCountChunks } from '../../../src/cost/chunks';

test('count chunks are cut after a newline followed by non-whitespace, and cover the text', () => {
  const text = 'one\ntwo\n\n  three\n\nfour\n';
  const chunks = splitCountChunks(text);
  assert.deepEqual(
    chunks.map((c) => text.slice(c.start, c.end)),
    ['one\n', 'two\n\n  three\n\n', 'four\n'],
  );
  assert.deepEqual(splitCountChunks(''), []);
  assert.deepEqual(splitCountChunks('\n\n'), [{ start: 0, end: 2 }]);
  assert.deepEqual(
    splitCountChunks('a\r\nb').map((c) => c.end),
    [3, 4],
  );
});

test('a very long line is cut before spaces between letters, never elsewhere', () => {
  const line = Array.from({ length: 2000 }, (_, i) => `word${i % 7 === 0 ? ',' : ''}`).join(' ');
  const chunks = splitCountChunks(`${line}\nnext`);
  assert.ok(chunks.length > 3);
  assert.equal(chunks[0].start, 0);
  for (let i = 1; i < chunks.length; i++) assert.equal(chunks[i].start, chunks[i - 1].end);
  for (const chunk of chunks.slice(0, -1)) {
    assert.ok(chunk.end - chunk.start <= 2048 || !line.slice(chunk.start, chunk.end).includes(' '));
    const cut = chunk.end;
    if (cut < line.length) assert.match(line.slice(cut - 1, cut + 2), /^[a-z] [a-z]$/);
  }
  const cjk = '漢字'.repeat(3000);
  assert.deepEqual(splitCountChunks(cjk), [{ start: 0, end: 6000 }]);
});
