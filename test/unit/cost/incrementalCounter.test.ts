import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitSections } from '../../../src/cost/chunks';
import { countSections, IncrementalCounter, offsetOfToken } from '../../../src/cost/incrementalCounter';
import type { TokenCounter } from '../../../src/cost/tokenCounters';
import { loadTokenCounter } from '../../../src/cost/tokenCounters';

/** One token per non-space character: easy to reason about, and it records what it was asked to count. */
function charCounter(): TokenCounter & { calls: string[] } {
  const calls: string[] = [];
  return { tokenizer: 'llama3', calls, count: (text) => (calls.push(text), text.replace(/\s/g, '').length) };
}

test('an edit re-tokenizes only the chunk it touches', () => {
  const counter = charCounter();
  const incremental = new IncrementalCounter(counter);
  const lines = Array.from({ length: 200 }, (_, i) => `line ${i}`);
  const first = incremental.update(lines.join('\n'));
  assert.equal(first.tokenizedChunks, 200);
  lines[120] = 'line 120 edited';
  counter.calls.length = 0;
  const second = incremental.update(lines.join('\n'));
  assert.equal(second.tokenizedChunks, 1);
  assert.deepEqual(counter.calls, ['line 120 edited\n']);
  assert.equal(second.total, first.total + 6);
  assert.equal(incremental.update(lines.join('\n')).tokenizedChunks, 0);
});

test('after any sequence of edits the chunks and counts equal a fresh count', () => {
  const counter = charCounter();
  const incremental = new IncrementalCounter(counter);
  let text = '# Title\n\nfirst paragraph\n  indented\nnext\n\n\nlast';
  let seed = 7;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const inserts = ['x', '\n', ' ', '\n\n', '# h\n', 'word ', '\t'];
  incremental.update(text);
  for (let i = 0; i < 300; i++) {
    const at = random(text.length + 1);
    text = random(3) === 0 ? text.slice(0, at) + text.slice(at + 1 + random(4)) : text.slice(0, at) + inserts[random(inserts.length)] + text.slice(at);
    const snapshot = incremental.update(text);
    const fresh = new IncrementalCounter(charCounter()).update(text);
    assert.deepEqual(snapshot.chunks, fresh.chunks, `edit ${i}`);
    assert.equal(snapshot.total, fresh.total);
  }
  assert.equal(incremental.update('').total, 0);
  assert.equal(incremental.update('a\nb').total, 2);
});

test('sections sum their chunks and the token offset is located exactly', async () => {
  const counter = charCounter();
  const text = '# A\nabc\n\n# B\ndefg\n';
  const snapshot = new IncrementalCounter(counter).update(text);
  assert.deepEqual(countSections(snapshot, splitSections(text, 'markdown')), [5, 6]);
  assert.equal(offsetOfToken(snapshot, counter, 1), 0);
  assert.equal(offsetOfToken(snapshot, counter, 5), text.indexOf('c'));
  assert.equal(offsetOfToken(snapshot, counter, 9), text.indexOf('e'));
  assert.equal(offsetOfToken(snapshot, counter, 12), null);
  const real = await loadTokenCounter('cl100k_base');
  const prose = 'alpha beta gamma\ndelta epsilon\n';
  const realSnapshot = new IncrementalCounter(real).update(prose);
  const offset = offsetOfToken(realSnapshot, real, 5);
  assert.ok(offset !== null);
  assert.equal(real.count(prose.slice(0, offset + 1)), 5);
  assert.equal(real.count(prose.slice(0, offset)), 4);
});
