// The incremental counter: an edit re-tokenizes only what it touched (a chunk, or a piece of a long line), and
// after any edits the chunks and counts equal a fresh count and a full recount of the whole text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LONG_CHUNK } from '../../../src/cost/chunks';
import { coverSections } from '../../../src/shared/promptSections';
import { countSections, IncrementalCounter, offsetOfToken } from '../../../src/cost/incrementalCounter';
import type { TokenCounter } from '../../../src/cost/tokenCounters';
import { loadTokenCounter } from '../../../src/cost/tokenCounters';
import { seededRandom } from '../../../src/shared/seededRandom';
import { randomEdit } from '../../helpers/randomEdit';

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
  const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const inserts = ['x', '\n', ' ', '\n\n', '# h\n', 'word ', '\t'];
  incremental.update(text);
  for (let i = 0; i < 300; i++) {
    const at = random(text.length + 1);
    text =
      random(3) === 0
        ? text.slice(0, at) + text.slice(at + 1 + random(4))
        : text.slice(0, at) + inserts[random(inserts.length)] + text.slice(at);
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
  assert.deepEqual(countSections(snapshot, coverSections(text)), [5, 6]);
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

/** The example prompts' markdown as one line of prose. */
function examplesProse(): string {
  const examples = join(__dirname, '../../../examples');
  return readdirSync(examples)
    .filter((name) => name.endsWith('.md'))
    .map((name) => readFileSync(join(examples, name), 'utf8'))
    .join(' ')
    .replace(/\s+/g, ' ');
}

test('typing in long lines: the counts equal a full recount, and only the edited piece is tokenized again', async () => {
  const prose = examplesProse();
  const random = seededRandom(3);
  const inserts = ['x', 'e', ' ', ' the ', 'Q', '\n', '漢', ', '];
  for (const id of ['llama2', 'o200k_base', 'claude'] as const) {
    const real = await loadTokenCounter(id);
    const asked: string[] = [];
    const counter: TokenCounter = {
      tokenizer: id,
      count: (text, atStart) => (asked.push(text), real.count(text, atStart)),
    };
    const incremental = new IncrementalCounter(counter);
    let text = `# Notes\n${prose.slice(0, 1500)}\nshort line\n${prose.slice(1500, 2600)}\n`;
    incremental.update(text);
    let retokenized = 0;
    let inLongLines = 0;
    for (let i = 0; i < 80; i++) {
      const edit = randomEdit(text, random, inserts, 0.25, 6);
      const at = edit.at;
      text = edit.text;
      asked.length = 0;
      const snapshot = incremental.update(text);
      const fresh = new IncrementalCounter(real).update(text);
      assert.equal(snapshot.total, real.count(text), `${id} edit ${i}: a full recount`);
      assert.deepEqual(
        snapshot.chunks.map((c) => [c.start, c.end, c.tokens]),
        fresh.chunks.map((c) => [c.start, c.end, c.tokens]),
        `${id} edit ${i}`,
      );
      const line = snapshot.chunks.find((c) => c.start <= at && at < c.end);
      if (line && line.end - line.start > LONG_CHUNK) {
        retokenized += asked.reduce((sum, piece) => sum + piece.length, 0);
        inLongLines += line.end - line.start;
      }
    }
    // About one word gap in four starts a piece: an edit re-tokenizes about an eighth of a long line.
    assert.ok(retokenized < inLongLines / 6, `${id}: ${retokenized} of ${inLongLines} characters tokenized again`);
  }
});

test('in a long line the token offset found piece by piece is the one found by counting whole prefixes', async () => {
  const prose = examplesProse();
  const text = `Intro\n${prose.slice(0, 3000)}\n`;
  for (const id of ['llama2', 'gemma3', 'llama3', 'o200k_base', 'claude'] as const) {
    const real = await loadTokenCounter(id);
    // Separate counter objects: offsetOfToken memoizes per counter.
    const byPieces = { tokenizer: id, count: real.count };
    const whole = { tokenizer: id, count: real.count };
    const snapshot = new IncrementalCounter(byPieces).update(text);
    assert.ok(
      snapshot.chunks.some((c) => (c.pieces?.length ?? 0) > 3),
      `${id}: the long line is counted in pieces`,
    );
    const stripped = {
      ...snapshot,
      chunks: snapshot.chunks.map(({ start, end, tokens, before }) => ({ start, end, tokens, before })),
    };
    for (let token = 1; token <= snapshot.total; token += 7) {
      assert.equal(
        offsetOfToken(snapshot, byPieces, token),
        offsetOfToken(stripped, whole, token),
        `${id} token ${token}`,
      );
    }
  }
});

test('the token offset after edits before, inside and after the crossing token is where a full recount puts it', async () => {
  const examples = join(__dirname, '../../../examples');
  const start = readdirSync(examples)
    .filter((name) => name.endsWith('.md'))
    .map((name) => readFileSync(join(examples, name), 'utf8'))
    .join('\n')
    .slice(0, 5000);
  const random = seededRandom(9);
  const inserts = ['x', ' ', 'word ', '\n', ' the', ', ', '\n\n', 'é'];
  for (const id of ['llama2', 'o200k_base'] as const) {
    const real = await loadTokenCounter(id);
    // One counter object throughout, as in the tokenizer worker: its memo of prefix counts carries over.
    const counter: TokenCounter = { tokenizer: id, count: real.count };
    const incremental = new IncrementalCounter(counter);
    let text = start;
    const crossing = Math.floor(incremental.update(text).total / 2);
    for (let i = 0; i < 36; i++) {
      const before = incremental.update(text);
      const offset = offsetOfToken(before, counter, crossing);
      assert.ok(offset !== null);
      // Before the crossing chunk (the token wanted in it shifts), inside the crossing token, after it.
      const at = [
        Math.floor(random() * Math.max(1, offset - 40)),
        Math.max(0, offset - 2 + Math.floor(random() * 5)),
        Math.min(text.length, offset + 20 + Math.floor(random() * 200)),
      ][i % 3];
      text =
        random() < 0.3
          ? text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * 3))
          : text.slice(0, at) + inserts[Math.floor(random() * inserts.length)] + text.slice(at);
      const snapshot = incremental.update(text);
      const label = `${id} edit ${i} (${['before', 'inside', 'after'][i % 3]})`;
      assert.equal(snapshot.total, real.count(text), `${label}: the total is a full recount's`);
      const found = offsetOfToken(snapshot, counter, crossing);
      assert.ok(found !== null, label);
      assert.equal(found, offsetOfToken(snapshot, { tokenizer: id, count: real.count }, crossing), `${label}: memo`);
      assert.ok(real.count(text.slice(0, found + 1)) >= crossing, `${label}: the prefix through it holds the token`);
      assert.ok(real.count(text.slice(0, found)) < crossing, `${label}: the prefix before it does not`);
    }
  }
});
