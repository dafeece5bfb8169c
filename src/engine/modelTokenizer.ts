// The model's own tokenizer (AutoTokenizer from the model folder, offline) plus character spans.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { TokenInfo } from '../shared/protocol';
import { EngineError } from './engineError';
import type { TokenTextKind } from './tokenSpans';
import { tokenSpans } from './tokenSpans';

interface TokenizerJson {
  readonly model?: { readonly type?: string; readonly vocab?: Record<string, number> | [string, number][]; readonly byte_fallback?: boolean };
  readonly added_tokens?: readonly { readonly id: number; readonly special?: boolean }[];
  readonly decoder?: { readonly type?: string; readonly decoders?: readonly { readonly type?: string }[] } | null;
  readonly pre_tokenizer?: { readonly type?: string; readonly pretokenizers?: readonly { readonly type?: string }[] } | null;
}

interface EncodingLike {
  readonly ids: number[];
  readonly tokens: string[];
}

interface LoadedTokenizer {
  readonly _tokenizer: { encode(text: string, options?: { add_special_tokens?: boolean }): EncodingLike };
  readonly all_special_ids: number[];
}

function typesIn(part: TokenizerJson['decoder'] | TokenizerJson['pre_tokenizer']): string[] {
  if (!part) return [];
  const nested = 'decoders' in part ? part.decoders : 'pretokenizers' in part ? part.pretokenizers : undefined;
  return [part.type ?? '', ...(nested ?? []).map((d) => d.type ?? '')];
}

export function tokenTextKind(json: TokenizerJson): TokenTextKind {
  const decoders = typesIn(json.decoder);
  const pre = typesIn(json.pre_tokenizer);
  if (decoders.includes('ByteLevel') || pre.includes('ByteLevel')) return 'byte-level';
  if (decoders.includes('Metaspace') || decoders.includes('ByteFallback') || decoders.includes('Replace') || pre.includes('Metaspace')) {
    return 'metaspace';
  }
  if (decoders.includes('WordPiece') || json.model?.type === 'WordPiece') return 'wordpiece';
  return 'plain';
}

/** Largest token id + 1, over the model vocabulary and the added tokens. */
function vocabularySize(json: TokenizerJson): number {
  let max = -1;
  const vocab = json.model?.vocab;
  if (Array.isArray(vocab)) max = vocab.length - 1;
  else if (vocab) for (const id of Object.values(vocab)) if (id > max) max = id;
  for (const t of json.added_tokens ?? []) if (t.id > max) max = t.id;
  return max + 1;
}

export interface TokenizedText {
  readonly ids: number[];
  readonly tokens: TokenInfo[];
}

export class ModelTokenizer {
  private constructor(
    private readonly tokenizer: LoadedTokenizer,
    private readonly kind: TokenTextKind,
    /** Largest id the tokenizer can produce, + 1. */
    readonly vocabSize: number,
    private readonly specialIds: ReadonlySet<number>,
  ) {}

  static async load(folder: string): Promise<ModelTokenizer> {
    const jsonPath = path.join(folder, 'tokenizer.json');
    let json: TokenizerJson;
    try {
      json = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as TokenizerJson;
    } catch (error) {
      throw new EngineError(`Cannot read tokenizer ${jsonPath}: ${firstLine(error)}`);
    }
    try {
      await fs.access(path.join(folder, 'tokenizer_config.json'));
    } catch {
      throw new EngineError(`Missing tokenizer config ${path.join(folder, 'tokenizer_config.json')}.`);
    }
    const { AutoTokenizer, env } = await import('@huggingface/transformers');
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    let tokenizer: LoadedTokenizer;
    try {
      // An absolute folder is not a Hub id, so transformers.js reads the files from it directly.
      tokenizer = (await AutoTokenizer.from_pretrained(path.resolve(folder), { local_files_only: true })) as unknown as LoadedTokenizer;
    } catch (error) {
      throw new EngineError(`Cannot load tokenizer ${jsonPath}: ${firstLine(error)}`);
    }
    const special = new Set<number>(tokenizer.all_special_ids ?? []);
    for (const t of json.added_tokens ?? []) if (t.special) special.add(t.id);
    return new ModelTokenizer(tokenizer, tokenTextKind(json), vocabularySize(json), special);
  }

  tokenize(text: string): TokenizedText {
    const encoding = this.tokenizer._tokenizer.encode(text, { add_special_tokens: true });
    const special = encoding.ids.map((id) => this.specialIds.has(id));
    const spans = tokenSpans(text, encoding.tokens, special, this.kind);
    const tokens = encoding.ids.map((id, i): TokenInfo => {
      const { start, end } = spans[i];
      return special[i] ? { id, text: text.slice(start, end), start, end, special: true } : { id, text: text.slice(start, end), start, end };
    });
    return { ids: encoding.ids, tokens };
  }

  /** Ids of plain (non-special) tokens, for random sequences (induction probe). */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }
}

export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].trim();
}
