// The answer the model writes after an inspected prompt: generation (runtime/generationSession.ts) from the
// inspection's own token ids (so a chat inspection continues after its template's generation prompt), the
// answer's text and its tokens with [start, end) offsets into that text, and each token's captured rows.
import type { ExecutionProviderSetting } from '../shared/protocol';
import { EngineError } from './engineError';
import type { LoadedModel } from './runtime/loadedModel';
import { GenerationSession, type GeneratedToken } from './runtime/generationSession';
import type { ModelDtype } from './runtime/modelFiles';
import { WarmSlot } from './runtime/warmSlot';
import { answerTokens } from './analysis/answerSpan';
import { joinAnswer } from '../shared/answerText';

export { answerTokens };

export interface AnswerToken {
  readonly id: number;
  readonly text: string;
  /** Offsets into the answer's text; the tokens' texts concatenate to it. */
  readonly start: number;
  readonly end: number;
}

export interface GeneratedAnswer {
  readonly text: string;
  readonly tokens: readonly AnswerToken[];
  /** Per answer token: per layer, heads × keys rows over the prompt and the answer up to it. */
  readonly rows: readonly (readonly Float32Array[])[];
  /** Whether the model's graph had a KV cache (else each step ran the whole sequence). */
  readonly kvCache: boolean;
}

export interface AnswerOptions {
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly seed?: number;
  readonly provider: ExecutionProviderSetting;
  readonly dtype?: ModelDtype;
  readonly isCancelled?: () => boolean;
  /** Also each token's attention rollout (GenerationSession's `rollout`). */
  readonly rollout?: boolean;
  /** Each token as soon as it is generated, with its offsets in the text so far. */
  readonly onToken?: (token: AnswerToken, generated: GeneratedToken) => void;
}

/** A session kept for the next answer of the same model (the worker keeps one warm). */
export class AnswerSessions {
  private readonly slot = new WarmSlot<LoadedModel, GenerationSession>((s) => s.dispose());

  get(loaded: LoadedModel, options: Pick<AnswerOptions, 'provider' | 'dtype'>): Promise<GenerationSession> {
    // The panel's "Attention × value norm" mode for answer tokens: their rows weighted where the graph allows.
    return this.slot.get(loaded, () =>
      GenerationSession.open(loaded.folder, loaded.config, { ...options, valueNorms: 'when-supported' }),
    );
  }

  release(): Promise<void> {
    return this.slot.release();
  }
}

export async function generateAnswer(
  loaded: LoadedModel,
  session: GenerationSession,
  promptIds: readonly number[],
  options: AnswerOptions,
): Promise<GeneratedAnswer> {
  if (promptIds.length >= loaded.config.maxPositions)
    throw new EngineError(
      `The prompt has ${promptIds.length} tokens, the model's whole context of ${loaded.config.maxPositions}; nothing can be generated.`,
    );
  const tokenizer = loaded.tokenizer;
  const ids: number[] = [];
  let text = '';
  const generated = await session.generate(promptIds, {
    maxTokens: options.maxTokens,
    ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    stop: (id) => tokenizer.isSpecial(id),
    ...(options.rollout ? { rollout: true } : {}),
    ...(options.isCancelled ? { isCancelled: options.isCancelled } : {}),
    onToken: (token) => {
      ids.push(token.id);
      if (!options.onToken) return;
      const next = tokenizer.decode(ids);
      let common = 0;
      while (common < text.length && common < next.length && text.charCodeAt(common) === next.charCodeAt(common))
        common++;
      const start = Math.min(common, text.length);
      text = next;
      options.onToken({ id: token.id, text: next.slice(start), start, end: next.length }, token);
    },
  });
  const all = generated.map((g) => g.id);
  const tokens = answerTokens(all, (x) => tokenizer.decode(x));
  return {
    text: tokens.map((t) => t.text).join(''),
    tokens,
    rows: generated.map((g) => g.rows),
    kvCache: session.kvCache,
  };
}

/**
 * A given answer (the text after `---answer---`) read after its prompt: both tokenized as attribution joins
 * them (joinAnswer), one pass, each answer token streamed with its rows like a generated one. The answer's
 * text starts with the seam space when one joins it to the prompt; offsets are into that text.
 */
export async function readGivenAnswer(
  loaded: LoadedModel,
  session: GenerationSession,
  prompt: string,
  answer: string,
  onToken?: (token: AnswerToken, read: GeneratedToken) => void,
  options: { readonly rollout?: boolean } = {},
): Promise<GeneratedAnswer> {
  if (answer.trim() === '') throw new EngineError('The answer after ---answer--- is empty.');
  const joined = joinAnswer(prompt, answer);
  const full = loaded.tokenizer.tokenize(joined.text);
  const first = full.tokens.findIndex((t) => !t.special && t.end > joined.boundary);
  if (first < 0) throw new EngineError('The answer is empty after tokenization.');
  const answerPart = full.tokens.slice(first).filter((t) => !t.special);
  const text = joined.text.slice(joined.boundary);
  const tokens = answerPart.map((t): AnswerToken => ({
    id: t.id,
    text: text.slice(Math.max(0, t.start - joined.boundary), t.end - joined.boundary),
    start: Math.max(0, t.start - joined.boundary),
    end: t.end - joined.boundary,
  }));
  const read = await session.readAnswer(
    full.ids.slice(0, first),
    tokens.map((t) => t.id),
    options,
  );
  read.forEach((r, i) => onToken?.(tokens[i], r));
  return { text, tokens, rows: read.map((r) => r.rows), kvCache: session.kvCache };
}
