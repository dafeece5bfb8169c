// Token counts with each target's tokenizer, offline: OpenAI's BPE ranks from gpt-tokenizer, and the Hugging
// Face tokenizer.json of Llama 3, Llama 2, Mistral, Qwen2.5, Qwen3, Gemma 3, DeepSeek-V3 and Anthropic's
// pre-Claude-3 BPE (vendored in tokenizers/) run by @huggingface/tokenizers. Counts never include the BOS token
// that models prepend. Whether a count is exact for a target is the preset's business (`exact`).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { Tokenizer } from '@huggingface/tokenizers';
import type { TargetPreset, TokenizerId } from './presets';

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
  o200k_harmony: 'o200k_harmony (tiktoken)',
  qwen3: 'Qwen3 BPE, 151k',
  gemma3: 'Gemma 3 SentencePiece, 262k',
  deepseek_v3: 'DeepSeek-V3 BPE, 128k',
  claude: 'Claude pre-3 BPE, 65k',
};

const OPENAI_ENCODINGS = ['o200k_base', 'o200k_harmony', 'cl100k_base'] as const;
type OpenAiEncoding = (typeof OPENAI_ENCODINGS)[number];

function isOpenAiEncoding(id: TokenizerId): id is OpenAiEncoding {
  return (OPENAI_ENCODINGS as readonly string[]).includes(id);
}

export interface TokenCounterOptions {
  /** Folder holding the vendored <name>.json.gz tokenizer assets; found next to the bundle or the repo root when
   * absent. */
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
  if (id === 'claude') {
    // GPT-2's split regex (\s+(?!\S)) keeps a run of blank lines whole only at the very end of the text; inside
    // a prompt the last newline goes with what follows. A piece ending in such a run is counted as it tokenizes
    // with text after it ("!" stands in), so chunk sums are exact; a whole text that ends in blank lines may
    // count one token less than the tokenizer itself would. Claude's count is an estimate either way.
    const sentinel = tokens('!');
    return {
      tokenizer: id,
      count: (text) => (text.length === 0 ? 0 : /\s\n$/.test(text) ? tokens(`${text}!`) - sentinel : tokens(text)),
    };
  }
  if (!hasDummyPrefix(asset.tokenizer))
    return { tokenizer: id, count: (text) => (text.length === 0 ? 0 : tokens(text)) };
  // SentencePiece prepends "▁" to the text and to each stretch between added tokens (<s>, </s>). A piece that
  // follows a newline is counted after a "\n" and that newline's own tokens ("▁", "<0x0A>") are taken off:
  // no piece contains a newline, so this is exactly how the piece tokenizes inside the whole prompt.
  const newline = tokens('\n');
  return {
    tokenizer: id,
    count: (text, atStart = true) => (text.length === 0 ? 0 : atStart ? tokens(text) : tokens(`\n${text}`) - newline),
  };
}

async function loadOpenAiCounter(id: OpenAiEncoding): Promise<TokenCounter> {
  const encoding =
    id === 'o200k_base'
      ? await import('gpt-tokenizer/encoding/o200k_base')
      : id === 'o200k_harmony'
        ? await import('gpt-tokenizer/encoding/o200k_harmony')
        : await import('gpt-tokenizer/encoding/cl100k_base');
  // The API tokenizes message text with no special tokens: "<|endoftext|>" in a prompt is ordinary text.
  const plainText = { disallowedSpecial: new Set<string>() };
  return { tokenizer: id, count: (text) => (text.length === 0 ? 0 : encoding.countTokens(text, plainText)) };
}

const loaded = new Map<string, Promise<TokenCounter>>();

/** Loads (once per tokenizer and assets folder) the counter for `id`. */
export function loadTokenCounter(id: TokenizerId, options: TokenCounterOptions = {}): Promise<TokenCounter> {
  const dir = isOpenAiEncoding(id) ? '' : resolve(options.assetsDir ?? findTokenizerAssets());
  const key = `${id}\u0000${dir}`;
  let counter = loaded.get(key);
  if (!counter) {
    counter = isOpenAiEncoding(id) ? loadOpenAiCounter(id) : loadHuggingFaceCounter(id, dir);
    // A failed load is not cached, so a later call can retry.
    counter.catch(() => loaded.delete(key));
    loaded.set(key, counter);
  }
  return counter;
}

/**
 * Tokens the target's chat format adds around one user message: a fixed number, or the template's prefix and
 * suffix counted with the target's tokenizer (its added tokens such as <|im_start|> match as one token each).
 * 0 where the framing is not public.
 */
export function chatOverheadTokens(preset: TargetPreset, counter: TokenCounter): number {
  const framing = preset.chatFraming;
  if (!framing) return 0;
  if ('tokens' in framing) return framing.tokens;
  return counter.count(framing.prefix, true) + counter.count(framing.suffix, false);
}
