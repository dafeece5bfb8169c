import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ModelTokenizer } from '../../../../src/engine/runtime/modelTokenizer';
import { gpt2ByteDecoder, tokenSpans } from '../../../../src/engine/runtime/tokenSpans';
import { buildTinyTokenizer } from '../../../helpers/tinyTokenizer';
import { makeTempDir, removeTempDir } from '../../../helpers/tinyModel';

const byteToChar = new Map([...gpt2ByteDecoder()].map(([ch, b]) => [b, ch]));
const byteLevel = (bytes: number[]): string => bytes.map((b) => byteToChar.get(b)).join('');

test('byte-level: a token that ends inside a multi-byte character gets the whole character, the rest an empty span after it', () => {
  // 中 is e4 b8 ad; 文 is e6 96 87.
  const tokens = [byteLevel([0xe4, 0xb8]), byteLevel([0xad]), byteLevel([0xe6, 0x96, 0x87]), byteLevel([0x21])];
  const spans = tokenSpans('中文!', tokens, [false, false, false, false], 'byte-level');
  assert.deepEqual(spans, [
    { start: 0, end: 1 },
    { start: 1, end: 1 },
    { start: 1, end: 2 },
    { start: 2, end: 3 },
  ]);
});

test('byte-level: an emoji (surrogate pair) split across tokens maps to whole UTF-16 units', () => {
  // 🙂 is f0 9f 99 82 (two UTF-16 code units).
  const tokens = [byteLevel([0x61, 0xf0]), byteLevel([0x9f, 0x99, 0x82, 0x62])];
  const spans = tokenSpans('a🙂b', tokens, [false, false], 'byte-level');
  assert.deepEqual(spans, [
    { start: 0, end: 3 },
    { start: 3, end: 4 },
  ]);
});

test('SentencePiece: ▁ is a space, the prepended space is skipped, <0xNN> byte fallback works', () => {
  const tokens = ['<s>', '▁Hello', '▁wor', 'ld', '<0xE4>', '<0xB8>', '<0xAD>', '▁é'];
  const special = [true, false, false, false, false, false, false, false];
  const text = 'Hello world中 é';
  const spans = tokenSpans(text, tokens, special, 'metaspace');
  assert.deepEqual(
    spans.map((s) => text.slice(s.start, s.end)),
    ['', 'Hello', ' wor', 'ld', '中', '', '', ' é'],
  );
});

let dir = '';
let tokenizer: ModelTokenizer;

before(async () => {
  dir = await makeTempDir();
  const files = buildTinyTokenizer();
  await fs.writeFile(path.join(dir, 'tokenizer.json'), files.tokenizerJson);
  await fs.writeFile(path.join(dir, 'tokenizer_config.json'), files.tokenizerConfigJson);
  tokenizer = await ModelTokenizer.load(dir);
});

after(() => removeTempDir(dir));

const SAMPLES = [
  'Plain English prompt with punctuation, numbers 12345 and   spaces.',
  'Café naïve résumé — déjà vu, Ångström, São Paulo.',
  '中文文本：注意力机制。日本語のテキスト。한국어 텍스트.',
  'Emoji 🙂🙂 thumbs 👍🏽 flag 🇫🇷 family 👨‍👩‍👧 end 🙂',
  'Mixed: naïve 中文 🙂 code `x => x * 2`\n\tnew line\r\nwindows',
];

for (const text of SAMPLES) {
  test(`spans from the real tokenizer cover the input in order: ${JSON.stringify(text.slice(0, 24))}`, () => {
    const { tokens, ids } = tokenizer.tokenize(text);
    assert.equal(tokens.length, ids.length);
    assert.equal(tokens[0].special, true, 'BOS first');
    assert.deepEqual([tokens[0].start, tokens[0].end, tokens[0].text], [0, 0, '']);
    let cursor = 0;
    for (const token of tokens) {
      assert.equal(token.start, cursor, `token ${JSON.stringify(token.text)} starts where the previous ended`);
      assert.ok(token.end >= token.start);
      assert.equal(token.text, text.slice(token.start, token.end));
      cursor = token.end;
    }
    assert.equal(cursor, text.length);
    assert.equal(tokens.map((t) => t.text).join(''), text);
    // No span cuts a surrogate pair.
    for (const token of tokens) {
      const before = text.charCodeAt(token.start - 1);
      const at = text.charCodeAt(token.start);
      assert.ok(
        !(before >= 0xd800 && before <= 0xdbff && at >= 0xdc00 && at <= 0xdfff),
        'span starts inside a surrogate pair',
      );
    }
  });
}

test('the tiny tokenizer really splits a multi-byte character across tokens (so the test above means something)', () => {
  const text = SAMPLES.join(' ');
  const { tokens } = tokenizer.tokenize(text);
  assert.ok(
    tokens.some((t) => !t.special && t.start === t.end),
    'some token holds only the tail bytes of a character',
  );
});

test('a special token spelled out in the text gets the span of its characters; BOS stays empty', () => {
  const text = 'Hi <|begin_of_text|>there';
  const { tokens } = tokenizer.tokenize(text);
  const inText = tokens.filter((t) => t.special && t.start !== t.end);
  assert.equal(inText.length, 1);
  assert.equal(inText[0].text, '<|begin_of_text|>');
  assert.equal(tokens.map((t) => t.text).join(''), text);
});
