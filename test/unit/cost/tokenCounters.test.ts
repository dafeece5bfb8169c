import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { IncrementalCounter } from '../../../src/cost/incrementalCounter';
import { TOKENIZER_IDS, type TokenizerId } from '../../../src/cost/presets';
import { getEncoding } from 'js-tiktoken';
import { findTokenizerAssets, loadTokenCounter } from '../../../src/cost/tokenCounters';

const fixtures = join(__dirname, '../../fixtures/cost');
const reference = JSON.parse(readFileSync(join(fixtures, 'reference-counts.json'), 'utf8')) as {
  counts: Record<string, Record<TokenizerId, number>>;
};
const texts = readdirSync(join(fixtures, 'texts')).sort();
const read = (name: string) => readFileSync(join(fixtures, 'texts', name), 'utf8');

test('every fixture text has a reference count for every tokenizer', () => {
  assert.deepEqual(Object.keys(reference.counts).sort(), texts);
  for (const name of texts) assert.deepEqual(Object.keys(reference.counts[name]).sort(), [...TOKENIZER_IDS].sort());
});

for (const id of TOKENIZER_IDS) {
  test(`${id}: counts match the independent reference counts, in one piece and chunk by chunk`, async () => {
    const counter = await loadTokenCounter(id);
    for (const name of texts) {
      const text = read(name);
      const expected = reference.counts[name][id];
      if (id === 'claude') {
        // The Claude estimate counts trailing blank lines as text inside a prompt does (see tokenCounters.ts).
        assert.ok(Math.abs(counter.count(text) - expected) <= 1, `${name} in one piece`);
        assert.equal(new IncrementalCounter(counter).update(text).total, counter.count(text), `${name} chunk by chunk`);
        continue;
      }
      assert.equal(counter.count(text), expected, `${name} in one piece`);
      assert.equal(new IncrementalCounter(counter).update(text).total, expected, `${name} chunk by chunk`);
    }
  });
}

test('Llama 2 and Mistral have different vocabularies; counts exclude BOS', async () => {
  const llama2 = await loadTokenCounter('llama2');
  const mistral = await loadTokenCounter('mistral');
  // llama-tokenizer-js documents "Hello world!" as [1, 15043, 3186, 29991]: three tokens after BOS.
  assert.equal(llama2.count('Hello world!'), 3);
  assert.equal(mistral.count('Hello world!'), 3);
  const english = read('english.txt');
  assert.notEqual(llama2.count(english), mistral.count(english));
  assert.equal((await loadTokenCounter('llama3')).count(''), 0);
});

test('SentencePiece adds its dummy-prefix space only where the prompt starts', async () => {
  const llama2 = await loadTokenCounter('llama2');
  // "Hello" opening a prompt is "▁Hello" (one token); after a newline it is "Hello", which splits.
  assert.equal(llama2.count('Hello', true), 1);
  assert.ok(llama2.count('Hello', false) >= 1);
  assert.equal(llama2.count('\nHello', true), llama2.count('\n', true) + llama2.count('Hello', false));
});

test('SentencePiece chunks that start with <s> count as inside the whole prompt', async () => {
  const text = '<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello </s>\n<s>[INST] Again [/INST]';
  for (const id of ['llama2', 'mistral'] as const) {
    const counter = await loadTokenCounter(id);
    assert.equal(new IncrementalCounter(counter).update(text).total, counter.count(text), id);
  }
});

test('OpenAI encodings read special-token text as plain text, as the API does', async () => {
  const o200k = await loadTokenCounter('o200k_base');
  assert.ok(o200k.count('<|endoftext|>') > 1);
});

test('the tokenizer assets are found next to the sources and a missing folder is a clear error', () => {
  assert.match(findTokenizerAssets(), /tokenizers$/);
  assert.throws(() => findTokenizerAssets('/'), /tokenizer assets not found above \//);
});

test('a long SentencePiece prompt counts the same in chunks as in one piece', async () => {
  const mistral = await loadTokenCounter('mistral');
  const text = texts.map(read).join('\n\n').repeat(3);
  assert.equal(new IncrementalCounter(mistral).update(text).total, mistral.count(text));
});

test('cutting long lines keeps every tokenizer exact', async () => {
  const prose = texts.map(read).join(' ').replace(/\n/g, ' ');
  const long = `${prose.repeat(6)}\n${prose.repeat(4)}`;
  for (const id of TOKENIZER_IDS) {
    const counter = await loadTokenCounter(id);
    assert.equal(new IncrementalCounter(counter).update(long).total, counter.count(long), id);
  }
});

test('OpenAI encodings agree with js-tiktoken, an independent implementation, on every fixture and on tricky text', async () => {
  // o200k_harmony has o200k_base's ranks plus the harmony special tokens (tiktoken openai_public.py), so for
  // text with no special tokens js-tiktoken's o200k_base is its reference.
  const references = {
    o200k_base: getEncoding('o200k_base'),
    o200k_harmony: getEncoding('o200k_base'),
    cl100k_base: getEncoding('cl100k_base'),
  };
  const extra = [
    "don't STOP 12345 ünïcödé 中文字符 🙂🙂 \r\n\t  x",
    '<|start|>user<|message|>hi<|end|>',
    'a'.repeat(3000),
  ];
  for (const [id, reference] of Object.entries(references) as [
    keyof typeof references,
    ReturnType<typeof getEncoding>,
  ][]) {
    const counter = await loadTokenCounter(id);
    for (const text of [...texts.map(read), ...extra])
      assert.equal(counter.count(text), reference.encode(text, [], []).length, `${id}: ${text.slice(0, 30)}`);
  }
});

test("Qwen3 keeps Qwen2.5's vocabulary and adds <think> as one token", async () => {
  const qwen3 = await loadTokenCounter('qwen3');
  const qwen2 = await loadTokenCounter('qwen2');
  assert.equal(qwen3.count('<think>'), 1);
  assert.ok(qwen2.count('<think>') > 1);
  assert.equal(qwen3.count('<|im_start|>user\n'), 3);
});
