// The model's own tokenizer (tokenizer.json + tokenizer_config.json from the model folder, offline) plus
// character spans. It uses @huggingface/tokenizers, the tokenizer implementation inside transformers.js
// (AutoTokenizer builds the same `new Tokenizer(tokenizerJson, tokenizerConfig)`), directly: importing
// transformers.js would also load its image code, which needs `sharp`, which the extension does not ship.
import * as fs from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import * as path from 'node:path';
import type { TokenInfo } from '../../shared/protocol';
import { firstLine } from '../../shared/errorText';
import { EngineError } from '../engineError';
import type { ChatTemplateSource } from './chatTemplate';
import { readChatTemplate } from './chatTemplate';
import type { TokenTextKind } from './tokenSpans';
import { tokenSpans } from './tokenSpans';

export interface TokenizerJson {
  readonly model?: {
    readonly type?: string;
    readonly vocab?: Record<string, number> | [string, number][];
    readonly byte_fallback?: boolean;
  };
  readonly added_tokens?: readonly { readonly id: number; readonly special?: boolean }[];
  readonly decoder?: { readonly type?: string; readonly decoders?: readonly { readonly type?: string }[] } | null;
  readonly pre_tokenizer?: {
    readonly type?: string;
    readonly pretokenizers?: readonly { readonly type?: string }[];
  } | null;
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
  if (
    decoders.includes('Metaspace') ||
    decoders.includes('ByteFallback') ||
    decoders.includes('Replace') ||
    pre.includes('Metaspace')
  ) {
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
    private readonly tokenizer: Tokenizer,
    private readonly kind: TokenTextKind,
    /** Largest id the tokenizer can produce, + 1. */
    readonly vocabSize: number,
    private readonly specialIds: ReadonlySet<number>,
    /** The model's chat template, or null when it has none. */
    readonly chatTemplate: ChatTemplateSource | null = null,
  ) {}

  static async load(folder: string): Promise<ModelTokenizer> {
    const jsonPath = path.join(folder, 'tokenizer.json');
    let json: TokenizerJson;
    try {
      json = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as TokenizerJson;
    } catch (error) {
      throw new EngineError(`Cannot read tokenizer ${jsonPath}: ${firstLine(error)}`);
    }
    const configPath = path.join(folder, 'tokenizer_config.json');
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(await fs.readFile(configPath, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new EngineError(`Cannot read tokenizer config ${configPath}: ${firstLine(error)}`);
    }
    return ModelTokenizer.fromJson(json, config, await readChatTemplate(folder, config), jsonPath);
  }

  /** A tokenizer from tokenizer.json-shaped objects (read from a folder, or built from GGUF metadata). */
  static fromJson(
    json: TokenizerJson,
    config: Record<string, unknown>,
    chatTemplate: ChatTemplateSource | null,
    source: string,
    /** Largest id + 1 when the caller knows it (counting a 150k vocabulary object costs ~0.1 s). */
    vocabSize?: number,
  ): ModelTokenizer {
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(json, config);
    } catch (error) {
      // The tokenizer library names a missing field's type as "undefined"; say what it means.
      throw new EngineError(
        `Cannot load tokenizer ${source}: ${clip(firstLine(error).replace(/\bundefined\b/g, '(missing)'))}`,
      );
    }
    const special = new Set<number>();
    for (const t of json.added_tokens ?? []) if (t.special) special.add(t.id);
    const size = vocabSize ?? vocabularySize(json);
    return new ModelTokenizer(tokenizer, tokenTextKind(json), size, special, chatTemplate);
  }

  /** `addSpecialTokens` false for a rendered chat, whose template wrote BOS itself. */
  tokenize(text: string, addSpecialTokens = true): TokenizedText {
    const encoding = this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens });
    const special = encoding.ids.map((id) => this.specialIds.has(id));
    const spans = tokenSpans(text, encoding.tokens, special, this.kind);
    const tokens = encoding.ids.map((id, i): TokenInfo => {
      const { start, end } = spans[i];
      return special[i]
        ? { id, text: text.slice(start, end), start, end, special: true }
        : { id, text: text.slice(start, end), start, end };
    });
    return { ids: encoding.ids, tokens };
  }

  /** Text of `ids` (generated answers), special tokens left out. */
  decode(ids: readonly number[]): string {
    return this.tokenizer.decode([...ids], { skip_special_tokens: true });
  }

  /** Ids of plain (non-special) tokens, for random sequences (induction probe). */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }
}

// loadedModel.ts and logitsSession.ts take it from here.
export { firstLine };

/** The tokenizer library quotes the offending value, which can be megabytes long. */
function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
