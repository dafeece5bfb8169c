import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCountChunks, splitSections } from '../../../src/cost/chunks';

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

test('markdown sections start at headings outside code fences, with a preamble', () => {
  const text = 'Intro line\n\n# Title\nbody\n```\n# not a heading\n```\n## Rules\n- a\n';
  const sections = splitSections(text, 'markdown');
  assert.deepEqual(
    sections.map((s) => s.title),
    ['Preamble', 'Title', 'Rules'],
  );
  assert.equal(sections[0].start, 0);
  assert.equal(sections[1].anchor, text.indexOf('# Title'));
  assert.equal(sections[2].start, text.indexOf('## Rules'));
  assert.equal(sections[2].end, text.length);
  for (let i = 1; i < sections.length; i++) assert.equal(sections[i].start, sections[i - 1].end);
});

test('blank-line blocks when there is no heading (or for plain text)', () => {
  const text = '\n\nfirst block\nstill first\n\n\nsecond # not heading\n';
  for (const style of ['markdown', 'blocks'] as const) {
    const sections = splitSections(text, style);
    assert.deepEqual(
      sections.map((s) => s.title),
      ['first block', 'second # not heading'],
    );
    assert.equal(sections[0].start, 0);
    assert.equal(sections[0].anchor, 2);
  }
  assert.deepEqual(splitSections('   \n\n', 'blocks'), []);
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
