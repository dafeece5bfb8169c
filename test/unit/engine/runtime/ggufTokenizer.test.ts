// The SentencePiece side of the GGUF tokenizer on hand-made vocabularies: merges ranked by the merged
// piece's score, the space prefix and ▁ escaping, byte fallback, BOS as add_bos_token says, and a
// character outside the BMP kept whole. (The real vocabularies are checked against llama.cpp in
// test/integration/engine/runtime/ggufTokenizer.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GgufMetadata } from '../../../../src/engine/runtime/ggufTokenizer';
import { loadGgufTokenizer, sentencePieceMerges } from '../../../../src/engine/runtime/ggufTokenizer';

const BYTES = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);

function spm(pieces: Record<string, number>, extra: GgufMetadata = {}): GgufMetadata {
  const tokens = ['<unk>', '<s>', '</s>', ...BYTES, ...Object.keys(pieces)];
  return {
    'tokenizer.ggml.model': 'llama',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.scores': tokens.map((t) => pieces[t] ?? 0),
    'tokenizer.ggml.token_type': tokens.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : i < 3 + 256 ? 6 : 1)),
    'tokenizer.ggml.unknown_token_id': 0,
    'tokenizer.ggml.bos_token_id': 1,
    'tokenizer.ggml.eos_token_id': 2,
    ...extra,
  };
}

test('merges are ranked by the score of the piece they make, then by its id', () => {
  const tokens = ['a', 'b', 'c', 'ab', 'bc', 'abc'];
  assert.deepEqual(sentencePieceMerges(tokens, [0, 0, 0, -2, -1, -3]), [
    ['b', 'c'],
    ['a', 'b'],
    ['a', 'bc'],
    ['ab', 'c'],
  ]);
});

test('the higher-scoring pair merges first, as llama.cpp does', () => {
  const base = { '▁': -1, a: -2, b: -3, c: -4 };
  const abFirst = loadGgufTokenizer(spm({ ...base, ab: -5, bc: -6, '▁ab': -7 }), 'ab-first');
  const bcFirst = loadGgufTokenizer(spm({ ...base, ab: -6, bc: -5, '▁a': -7 }), 'bc-first');
  const text = (t: ReturnType<typeof loadGgufTokenizer>, s: string): string[] =>
    t.tokenize(s, false).tokens.map((x) => x.text);
  assert.deepEqual(text(abFirst, 'abc'), ['ab', 'c'], '▁ab then c');
  assert.equal(abFirst.tokenize('abc', false).ids.length, 2);
  assert.deepEqual(text(bcFirst, 'abc'), ['a', 'bc']);
});

test('BOS follows add_bos_token; the space prefix can be turned off', () => {
  const pieces = { '▁': -1, h: -2, i: -3, hi: -4, '▁hi': -5 };
  const withBos = loadGgufTokenizer(spm(pieces), 'bos');
  const ids = withBos.tokenize('hi hi').ids;
  assert.equal(ids[0], 1);
  assert.equal(ids.length, 3, '<s> ▁hi ▁hi');
  const noBos = loadGgufTokenizer(spm(pieces, { 'tokenizer.ggml.add_bos_token': false }), 'no-bos');
  assert.equal(noBos.tokenize('hi').ids.length, 1);
  const noPrefix = loadGgufTokenizer(spm(pieces, { 'tokenizer.ggml.add_space_prefix': false }), 'no-prefix');
  assert.deepEqual(
    noPrefix.tokenize('hi hi', false).tokens.map((t) => t.text),
    ['hi', ' hi'],
  );
});

test('characters outside the vocabulary fall back to their UTF-8 bytes, spans kept whole', () => {
  const tokenizer = loadGgufTokenizer(spm({ '▁': -1, a: -2 }), 'bytes');
  const { ids, tokens } = tokenizer.tokenize('a€😀', false);
  const byteId = (b: number): number => 3 + b;
  assert.deepEqual(ids.slice(-7), [0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80].map(byteId));
  assert.equal(tokens.map((t) => t.text).join(''), 'a€😀');
  assert.equal(tokenizer.decode(ids), 'a€😀', 'the decoder strips the space prefix');
});
