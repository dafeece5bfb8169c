// The tokenizer of a GGUF file, built from its metadata into a tokenizer.json-shaped object that
// @huggingface/tokenizers runs, so a GGUF model tokenizes as llama.cpp does without a tokenizer.json:
// - `gpt2`: byte-level BPE from `tokenizer.ggml.tokens` + `merges`, split first by the regexes llama.cpp
//   uses for `tokenizer.ggml.pre` (each regex splits the pieces of the previous one, matches and gaps kept);
// - `llama`: SentencePiece, whose merge order is the score of the merged piece; it becomes BPE merges ranked
//   by that score (the leftmost pair wins a tie in both), with the space escaped to ▁, a ▁ prepended to each
//   run of text (unless `add_space_prefix` is false) and byte fallback through the <0xNN> tokens.
// CONTROL and USER_DEFINED tokens are added tokens (matched in the text before anything else); BOS/EOS are
// added as the file's `add_bos_token` / `add_eos_token` (or llama.cpp's default for the vocabulary) say.
import { EngineError } from '../engineError';
import type { ChatTemplateSource } from './chatTemplate';
import type { PreTokenizerRule } from './ggufPreTokenizers';
import { preTokenizerRule } from './ggufPreTokenizers';
import { ModelTokenizer } from './modelTokenizer';

/** Bump when the spec built from the same metadata changes (here or in ggufPreTokenizers.ts): cached specs
 * (builtSource.ts) are then built again. */
export const GGUF_TOKENIZER_VERSION = 'tok-v1';

/** GGUF metadata as @huggingface/gguf returns it: key → value (arrays as JS arrays). */
export type GgufMetadata = Readonly<Record<string, unknown>>;

/** llama_token_type in GGUF. */
export const GGUF_TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/** The tokenizer.json / tokenizer_config.json pair that @huggingface/tokenizers takes, and facts about it. */
export interface GgufTokenizerSpec {
  readonly json: Record<string, unknown> & {
    readonly added_tokens: readonly { readonly id: number; readonly content: string; readonly special: boolean }[];
  };
  readonly config: Record<string, unknown>;
  readonly chatTemplate: ChatTemplateSource | null;
  readonly bosId: number | null;
  readonly eosId: number | null;
  readonly addBos: boolean;
  readonly addEos: boolean;
  /** Largest token id + 1 (the list's length: every id in the spec indexes it). */
  readonly vocabSize: number;
}

function stringArray(metadata: GgufMetadata, key: string, required: boolean): string[] | null {
  const value = metadata[key];
  if (value === undefined && !required) return null;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new EngineError(`The GGUF file has no ${key} list of strings.`);
  return value as string[];
}

function numberArray(metadata: GgufMetadata, key: string, length: number): number[] | null {
  const value = metadata[key];
  if (value === undefined) return null;
  if (
    !Array.isArray(value) ||
    value.length !== length ||
    !value.every((v) => typeof v === 'number' || typeof v === 'bigint')
  )
    throw new EngineError(`The GGUF file's ${key} is not a list of ${length} numbers.`);
  return value.map(Number);
}

function tokenId(metadata: GgufMetadata, key: string, size: number): number | null {
  const value = metadata[key];
  if (value === undefined) return null;
  const id = Number(value);
  if (!Number.isInteger(id) || id < 0 || id >= size)
    throw new EngineError(`The GGUF file's ${key} (${String(value)}) is not a token id below ${size}.`);
  return id;
}

function flag(metadata: GgufMetadata, key: string, fallback: boolean): boolean {
  const value = metadata[key];
  return typeof value === 'boolean' ? value : fallback;
}

/** GGUF merges are "left right", split at the first space after the first character (as llama.cpp does). */
function splitMerge(merge: string): [string, string] {
  const at = merge.indexOf(' ', 1);
  return at < 0 ? [merge, ''] : [merge.slice(0, at), merge.slice(at + 1)];
}

/**
 * SentencePiece's merge order as BPE merges: every split of a piece into two pieces of the vocabulary, ranked
 * by the merged piece's score (highest first; equal scores by id). llama.cpp merges the adjacent pair whose
 * merged text has the highest score, which is the same order.
 */
export function sentencePieceMerges(tokens: readonly string[], scores: readonly number[]): [string, string][] {
  const ids = new Set(tokens);
  const lefts: string[] = [];
  const rights: string[] = [];
  const owners: number[] = [];
  tokens.forEach((piece, id) => {
    for (let at = 1; at < piece.length; at++) {
      const unit = piece.charCodeAt(at);
      if (unit >= 0xdc00 && unit <= 0xdfff) continue; // inside a surrogate pair: not a character boundary
      const left = piece.slice(0, at);
      if (!ids.has(left)) continue;
      const right = piece.slice(at);
      if (!ids.has(right)) continue;
      lefts.push(left);
      rights.push(right);
      owners.push(id);
    }
  });
  const order = Array.from(owners.keys()).sort(
    (a, b) => scores[owners[b]] - scores[owners[a]] || owners[a] - owners[b],
  );
  return order.map((k) => [lefts[k], rights[k]]);
}

function postProcessor(
  bos: string | null,
  eos: string | null,
): { type: string; single: unknown[]; pair: unknown[]; special_tokens: Record<string, unknown> } | null {
  if (bos === null && eos === null) return null;
  const special = (s: string): unknown => ({ SpecialToken: { id: s, type_id: 0 } });
  const single = [
    ...(bos !== null ? [special(bos)] : []),
    { Sequence: { id: 'A', type_id: 0 } },
    ...(eos !== null ? [special(eos)] : []),
  ];
  return {
    type: 'TemplateProcessing',
    single,
    pair: [...single, { Sequence: { id: 'B', type_id: 0 } }],
    special_tokens: {},
  };
}

/** Builds the tokenizer spec; one EngineError line for a vocabulary it cannot build. */
export function ggufTokenizerSpec(metadata: GgufMetadata): GgufTokenizerSpec {
  const model = metadata['tokenizer.ggml.model'];
  if (typeof model !== 'string') throw new EngineError('The GGUF file has no tokenizer (tokenizer.ggml.model).');
  if (model !== 'gpt2' && model !== 'llama')
    throw new EngineError(`GGUF tokenizer model "${model}" is not supported (gpt2 and llama are).`);
  const tokens = stringArray(metadata, 'tokenizer.ggml.tokens', true) as string[];
  const types = numberArray(metadata, 'tokenizer.ggml.token_type', tokens.length);
  const size = tokens.length;
  const bosId = tokenId(metadata, 'tokenizer.ggml.bos_token_id', size);
  const eosId = tokenId(metadata, 'tokenizer.ggml.eos_token_id', size);
  const unkId = tokenId(metadata, 'tokenizer.ggml.unknown_token_id', size);
  const pre = typeof metadata['tokenizer.ggml.pre'] === 'string' ? (metadata['tokenizer.ggml.pre'] as string) : '';
  const rule = model === 'gpt2' ? preTokenizerRule(pre) : null;
  const addBos = flag(metadata, 'tokenizer.ggml.add_bos_token', model === 'llama' || rule?.addBos === true);
  const addEos = flag(metadata, 'tokenizer.ggml.add_eos_token', false);
  if (addBos && bosId === null) throw new EngineError('The GGUF file adds a BOS token but names none.');
  if (addEos && eosId === null) throw new EngineError('The GGUF file adds an EOS token but names none.');

  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  const added: { id: number; content: string; special: boolean }[] = [];
  types?.forEach((type, id) => {
    if (type === GGUF_TOKEN_TYPE.control || type === GGUF_TOKEN_TYPE.userDefined)
      added.push({ id, content: tokens[id], special: type === GGUF_TOKEN_TYPE.control });
  });
  for (const id of [bosId, eosId])
    if (id !== null && !added.some((a) => a.id === id)) added.push({ id, content: tokens[id], special: true });
  const addedTokens = added
    .filter((a) => a.content.length > 0)
    .map((a) => ({ ...a, single_word: false, lstrip: false, rstrip: false, normalized: false }));
  const post = postProcessor(addBos ? tokens[bosId as number] : null, addEos ? tokens[eosId as number] : null);

  let json: GgufTokenizerSpec['json'];
  if (model === 'gpt2') {
    const merges = (stringArray(metadata, 'tokenizer.ggml.merges', true) as string[]).map(splitMerge);
    const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
    json = {
      version: '1.0',
      added_tokens: addedTokens,
      normalizer: null,
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          ...(rule as PreTokenizerRule).regexes.map((r) => ({
            type: 'Split',
            pattern: { Regex: r },
            behavior: 'Isolated',
            invert: false,
          })),
          byteLevel,
        ],
      },
      post_processor: post,
      decoder: byteLevel,
      model: {
        type: 'BPE',
        vocab,
        merges,
        ignore_merges: rule?.ignoreMerges === true,
        byte_fallback: false,
        unk_token: unkId === null ? null : tokens[unkId],
        fuse_unk: false,
      },
    };
  } else {
    const scores = numberArray(metadata, 'tokenizer.ggml.scores', size);
    if (!scores) throw new EngineError('The GGUF file has a SentencePiece vocabulary without tokenizer.ggml.scores.');
    const spacePrefix = flag(metadata, 'tokenizer.ggml.add_space_prefix', true);
    const escape = { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' };
    json = {
      version: '1.0',
      added_tokens: addedTokens,
      normalizer: spacePrefix
        ? { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' }, escape] }
        : escape,
      pre_tokenizer: null,
      post_processor: post,
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '\u2581' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          ...(spacePrefix ? [{ type: 'Strip', content: ' ', start: 1, stop: 0 }] : []),
        ],
      },
      model: {
        type: 'BPE',
        vocab,
        merges: sentencePieceMerges(tokens, scores),
        byte_fallback: tokens.includes('<0x00>'),
        unk_token: unkId === null ? null : tokens[unkId],
        fuse_unk: true,
      },
    };
  }
  const config: Record<string, unknown> = { clean_up_tokenization_spaces: false };
  const specialTokens: Record<string, string> = {};
  if (bosId !== null) specialTokens.bos_token = tokens[bosId];
  if (eosId !== null) specialTokens.eos_token = tokens[eosId];
  if (unkId !== null) specialTokens.unk_token = tokens[unkId];
  const pad = tokenId(metadata, 'tokenizer.ggml.padding_token_id', size);
  if (pad !== null) specialTokens.pad_token = tokens[pad];
  Object.assign(config, specialTokens);
  const template = metadata['tokenizer.chat_template'];
  const chatTemplate =
    typeof template === 'string' && template.trim()
      ? { template, file: 'tokenizer.chat_template', specialTokens }
      : null;
  return { json, config, chatTemplate, bosId, eosId, addBos, addEos, vocabSize: size };
}

/** The tokenizer a spec describes; `source` names the file in messages. */
export function tokenizerFromSpec(spec: GgufTokenizerSpec, source: string): ModelTokenizer {
  return ModelTokenizer.fromJson(spec.json, spec.config, spec.chatTemplate, source, spec.vocabSize);
}

/** The model's tokenizer from its GGUF metadata; `source` names the file in messages. */
export function loadGgufTokenizer(metadata: GgufMetadata, source: string): ModelTokenizer {
  return tokenizerFromSpec(ggufTokenizerSpec(metadata), source);
}
