import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitCountChunks, splitSections } from '../../../src/cost/chunks';

test('count chunks are cut after a newline followed by non-whitespace, and cover the text', () => {
  const text = 'one\ntwo\n\n  three\n\nfour\n';
  const chunks = splitCountChunks(text);
  assert.deepEqual(chunks.map((c) => text.slice(c.start, c.end)), ['one\n', 'two\n\n  three\n\n', 'four\n']);
  assert.deepEqual(splitCountChunks(''), []);
  assert.deepEqual(splitCountChunks('\n\n'), [{ start: 0, end: 2 }]);
  assert.deepEqual(splitCountChunks('a\r\nb').map((c) => c.end), [3, 4]);
});

test('markdown sections start at headings outside code fences, with a preamble', () => {
  const text = 'Intro line\n\n# Title\nbody\n```\n# not a heading\n```\n## Rules\n- a\n';
  const sections = splitSections(text, 'markdown');
  assert.deepEqual(sections.map((s) => s.title), ['Preamble', 'Title', 'Rules']);
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
    assert.deepEqual(sections.map((s) => s.title), ['first block', 'second # not heading']);
    assert.equal(sections[0].start, 0);
    assert.equal(sections[0].anchor, 2);
  }
  assert.deepEqual(splitSections('   \n\n', 'blocks'), []);
});
