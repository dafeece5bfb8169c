// Exact token counts with each target's real tokenizer, offline: OpenAI's BPE ranks from gpt-tokenizer, and
// the Hugging Face tokenizer.json of Llama 3, Llama 2, Mistral and Qwen2.5 (vendored in tokenizers/) run by
// @huggingface/tokenizers. Counts never include the BOS token that models prepend.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenizerId } from './presets';

export interface TokenCounter {
  readonly tokenizer: TokenizerId;
  /**
   * Tokens in `text` as a piece of a longer prompt that is cut right after a newline. `atStart` says the piece
   * opens the prompt: SentencePiece tokenizers (Llama 2, Mistral) add their dummy-prefix space only there.
   */
  count(text: string, atStart?: boolean): number;
}

export const TOKENIZER_LABELS: Readonly<Record<TokenizerId, string>> = {
  o200k_base: 'o200k_base (tiktoken)',
  cl100k_base: 'cl100k_base (tiktoken)',
  llama3: 'Llama 3 BPE, 128k',
  llama2: 'Llama 2 SentencePiece, 32k',
  mistral: 'Mistral SentencePiece, 32k',
  qwen2: 'Qwen2 BPE, 151k',
};

export interface TokenCounterOptions {
  /** Folder holding the vendored <name>.json.gz tokenizer assets; found next to the bundle or the repo root when absent. */
  readonly assetsDir?: string;
}

const ASSET_PROBE = 'llama3.json.gz';

/** Walks up from this module (src/cost in tests, dist/ when bundled) to the folder that holds tokenizers/. */
export function findTokenizerAssets(start: string = __dirname): string {
  let dir = start;
  for (let depth = 0; depth < 5; depth++) {
    const candidate = join(dir, 'tokenizers');
    if (existsSync(join(candidate, ASSET_PROBE))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`tokenizer assets not found above ${start} (expected tokenizers/${ASSET_PROBE})`);
}

interface TokenizerAsset {
  readonly tokenizer: Record<string, unknown>;
  readonly config: Record<string, unknown>;
}

async function readAsset(dir: string, name: string): Promise<TokenizerAsset> {
  const path = join(dir, `${name}.json.gz`);
  const zipped = await readFile(path);
  const json = (await promisify(gunzip)(zipped)).toString('utf8');
  return JSON.parse(json) as TokenizerAsset;
}

function hasDummyPrefix(tokenizerJson: Record<string, unknown>): boolean {
  const normalizer = tokenizerJson.normalizer as { type?: string; normalizers?: { type?: string }[] } | null;
  return normalizer?.type === 'Sequence' && normalizer.normalizers?.some((n) => n.type === 'Prepend') === true;
}

async function loadHuggingFaceCounter(id: TokenizerId, dir: string): Promise<TokenCounter> {
  const asset = await readAsset(dir, id);
  const tokenizer = new Tokenizer(asset.tokenizer, asset.config);
  const tokens = (text: string) => tokenizer.encode(text, { add_special_tokens: false }).ids.length;
  if (!hasDummyPrefix(asset.tokenizer)) return { tokenizer: id, count: (text) => (text.length === 0 ? 0 : tokens(text)) };
  // SentencePiece prepends "▁" to the text and to each stretch between added tokens (<s>, </s>). A piece that
  // follows a newline is counted after a "\n" and that newline's own tokens ("▁", "<0x0A>") are taken off:
  // no piece contains a newline, so this is exactly how the piece tokenizes inside the whole prompt.
  const newline = tokens('\n');
  return {
    tokenizer: id,
    count: (text, atStart = true) => (text.length === 0 ? 0 : atStart ? tokens(text) : tokens(`\n${text}`) - newline),
  };
}

async function loadOpenAiCounter(id: 'o200k_base' | 'cl100k_base'): Promise<TokenCounter> {
  const encoding = id === 'o200k_base' ? await import('gpt-tokenizer/encoding/o200k_base') : await import('gpt-tokenizer/encoding/cl100k_base');
  // The API tokenizes message text with no special tokens: "<|endoftext|>" in a prompt is ordinary text.
  const plainText = { disallowedSpecial: new Set<string>() };
  return { tokenizer: id, count: (text) => (text.length === 0 ? 0 : encoding.countTokens(text, plainText)) };
}

const loaded = new Map<string, Promise<TokenCounter>>();

/** Loads (once per tokenizer and assets folder) the counter for `id`. */
export function loadTokenCounter(id: TokenizerId, options: TokenCounterOptions = {}): Promise<TokenCounter> {
  const dir = id === 'o200k_base' || id === 'cl100k_base' ? '' : resolve(options.assetsDir ?? findTokenizerAssets());
  const key = `${id}\u0000${dir}`;
  let counter = loaded.get(key);
  if (!counter) {
    counter = id === 'o200k_base' || id === 'cl100k_base' ? loadOpenAiCounter(id) : loadHuggingFaceCounter(id, dir);
    // A failed load is not cached, so a later call can retry.
    counter.catch(() => loaded.delete(key));
    loaded.set(key, counter);
  }
  return counter;
}
