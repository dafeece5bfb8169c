// The tokenizer built from GGUF metadata against llama.cpp (node-llama-cpp 3.21.1, CPU, nothing downloaded)
// on files that carry real vocabularies: Qwen3 and Llama 3.1 byte-level BPE (`qwen2` and `llama-bpe`
// pre-tokenizers), and Gemma 3's vocabulary as a SentencePiece `llama` vocabulary, with and without the
// space prefix. The ids must equal llama.cpp's (special-token text parsed, BOS as the file says) on mixed
// text, and the spans must cover the text.
import { gguf } from '@huggingface/gguf';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Llama, Token } from 'node-llama-cpp';
import { EngineError } from '../../../../src/engine/engineError';
import { tokenizeAsChat } from '../../../../src/engine/runtime/chatTemplate';
import type { GgufMetadata } from '../../../../src/engine/runtime/ggufTokenizer';
import { ggufTokenizerSpec, loadGgufTokenizer } from '../../../../src/engine/runtime/ggufTokenizer';
import { bool, str } from '../../../helpers/ggufWriter';
import { llamaCpp } from '../../../helpers/llamaCpp';
import type { LenmlVocab } from '../../../helpers/vocabGguf';
import { tinyModelWithVocab, vocabMetadata } from '../../../helpers/vocabGguf';

const MIXED = [
  'Hello world',
  'function add(a, b) {\n  return a + b; // sum\n}\n\tconst xs = [1, 22, 333, 4444, 55555];',
  'I ❤️ emoji 🤖🎉👩‍👩‍👧 done',
  '日本語のテキストと中文文本，还有한국어。',
  'a  b   c    d\n\n\n  e \n \n\t\t f   ',
  '   leading spaces and trailing\n\n',
  "It's they'RE we've I'M you'd",
  'naïve café Ω ∑ — “quotes” 3.14159 1234567',
  'def f():\n    if x:\n        return {"k": [1,2]}\n',
  'getElementById(xmlHTTPRequest) fooBAR_baz aBcDeF 日本語text와 ñandú',
];

const SPECIAL: Readonly<Record<LenmlVocab, string[]>> = {
  qwen3: ['<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nOK<|im_end|>'],
  llama3_1: ['<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>'],
  gemma3: ['<start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n'],
};

let llama: Llama;
let dir: string;

before(async () => {
  llama = await llamaCpp();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pa-gguf-tok-'));
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function compare(name: string, vocab: LenmlVocab, overrides = {}): Promise<void> {
  const file = path.join(dir, `${name}.gguf`);
  fs.writeFileSync(file, tinyModelWithVocab(vocabMetadata(vocab, overrides)));
  const { metadata } = await gguf(file, { allowLocalFile: true });
  const ours = loadGgufTokenizer(metadata as unknown as GgufMetadata, file);
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  try {
    const bos = model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? [Number(model.tokens.bos)] : [];
    for (const text of [...MIXED, ...SPECIAL[vocab]]) {
      const expected = [...bos, ...model.tokenize(text, true).map(Number)];
      const got = ours.tokenize(text);
      assert.deepEqual(got.ids, expected, `${name}: ${JSON.stringify(text)}`);
      const covered = got.tokens.map((t) => t.text).join('');
      assert.equal(covered, text, `${name}: spans of ${JSON.stringify(text)}`);
      assert.deepEqual(ours.tokenize(text, false).ids, expected.slice(bos.length), `${name} without BOS`);
    }
  } finally {
    await model.dispose();
  }
}

describe('GGUF tokenizer against llama.cpp', () => {
  test('Qwen3 vocabulary (gpt2, qwen2 pre-tokenizer, no BOS)', async () => {
    await compare('qwen3', 'qwen3');
  });

  test('Llama 3.1 vocabulary (gpt2, llama-bpe pre-tokenizer, BOS)', async () => {
    await compare('llama3', 'llama3_1');
  });

  test('Qwen3 vocabulary with add_bos_token set', async () => {
    await compare('qwen3-bos', 'qwen3', { 'tokenizer.ggml.add_bos_token': bool(true) });
  });

  test('Qwen3 vocabulary under the smollm and gpt-2 pre-tokenizers', async () => {
    await compare('qwen3-smollm', 'qwen3', { 'tokenizer.ggml.pre': str('smollm') });
    await compare('qwen3-gpt2', 'qwen3', { 'tokenizer.ggml.pre': str('gpt-2') });
  });

  test('Qwen3 vocabulary under the gpt-4o, tekken and deepseek-v3 pre-tokenizers', async () => {
    for (const pre of ['gpt-4o', 'tekken', 'deepseek-v3'])
      await compare(`qwen3-${pre}`, 'qwen3', { 'tokenizer.ggml.pre': str(pre) });
  });

  test('Gemma 3 vocabulary as SentencePiece (llama), no space prefix', async () => {
    await compare('gemma3', 'gemma3');
  });

  test('Gemma 3 vocabulary as SentencePiece (llama), with the space prefix', async () => {
    await compare('gemma3-prefix', 'gemma3', { 'tokenizer.ggml.add_space_prefix': bool(true) });
  });
});

// A top-level transcript (it opens with a role line), so Inspect as Chat splits it into system and user messages.
const SYSTEM = 'system: You answer in one line.\nuser: What is 2 + 2?';

describe('Inspect as Chat through the GGUF chat template', () => {
  for (const [vocab, opener, userHeader] of [
    ['qwen3', '<|im_start|>system\n', '<|im_start|>user\n'],
    ['llama3_1', '<|start_header_id|>system<|end_header_id|>', '<|start_header_id|>user<|end_header_id|>'],
  ] as const) {
    test(`${vocab}: the template from tokenizer.chat_template renders, tokenizes as llama.cpp, maps back`, async () => {
      const file = path.join(dir, `chat-${vocab}.gguf`);
      fs.writeFileSync(file, tinyModelWithVocab(vocabMetadata(vocab)));
      const { metadata } = await gguf(file, { allowLocalFile: true });
      const tokenizer = loadGgufTokenizer(metadata as unknown as GgufMetadata, file);
      assert.equal(tokenizer.chatTemplate?.file, 'tokenizer.chat_template');
      const chat = tokenizeAsChat(tokenizer, SYSTEM, '', 'tiny');
      assert.match(chat.notes[0], /through tokenizer\.chat_template/);
      const rendered = tokenizer.decode(chat.ids);
      const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
      try {
        // The rendered chat (special tokens included) as llama.cpp reads it, with no BOS added twice.
        const text = chat.tokens.map((t) => t.text).join('');
        assert.ok(text.length > 0);
        const renderedFull = model.detokenize(chat.ids as Token[], true);
        assert.deepEqual(chat.ids, model.tokenize(renderedFull, true).map(Number));
        assert.ok(renderedFull.includes(opener) && renderedFull.includes(userHeader), renderedFull);
      } finally {
        await model.dispose();
      }
      assert.ok(rendered.includes('What is 2 + 2?'));
      const roles = new Set(chat.tokens.map((t) => t.role));
      assert.ok(roles.has('system') && roles.has('user') && roles.has('template'), [...roles].join());
      // Tokens of the messages point back into the selection.
      for (const t of chat.tokens)
        if (t.role === 'system' || t.role === 'user') assert.equal(SYSTEM.slice(t.start, t.end), t.text);
      const userText = chat.tokens
        .filter((t) => t.role === 'user')
        .map((t) => t.text)
        .join('');
      assert.equal(userText.trim(), 'What is 2 + 2?');
    });
  }
});

describe('GGUF tokenizer metadata', () => {
  test('an unknown tokenizer model is one line naming it', () => {
    assert.throws(
      () => ggufTokenizerSpec({ 'tokenizer.ggml.model': 't5', 'tokenizer.ggml.tokens': ['a'] }),
      (e: unknown) => e instanceof EngineError && /"t5"/.test(e.message) && !e.message.includes('\n'),
    );
  });

  test('an unknown pre-tokenizer is one line naming it', () => {
    assert.throws(
      () =>
        ggufTokenizerSpec({
          'tokenizer.ggml.model': 'gpt2',
          'tokenizer.ggml.pre': 'klingon',
          'tokenizer.ggml.tokens': ['a'],
          'tokenizer.ggml.merges': [],
        }),
      (e: unknown) => e instanceof EngineError && /"klingon"/.test(e.message),
    );
  });

  test('the chat template and its special tokens come from the metadata', () => {
    const spec = ggufTokenizerSpec({
      'tokenizer.ggml.model': 'gpt2',
      'tokenizer.ggml.pre': 'qwen2',
      'tokenizer.ggml.tokens': ['a', '<s>', '</s>'],
      'tokenizer.ggml.token_type': [1, 3, 3],
      'tokenizer.ggml.merges': [],
      'tokenizer.ggml.bos_token_id': 1,
      'tokenizer.ggml.eos_token_id': 2,
      'tokenizer.chat_template': '{{ bos_token }}{% for m in messages %}{{ m.content }}{% endfor %}',
    });
    assert.equal(spec.chatTemplate?.file, 'tokenizer.chat_template');
    assert.deepEqual(spec.chatTemplate?.specialTokens, { bos_token: '<s>', eos_token: '</s>' });
    assert.equal(spec.addBos, false);
  });
});
