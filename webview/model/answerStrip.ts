// The answer strip's state: the answer the model writes after the inspected prompt (or the text's own answer
// after `---answer---`, read in one pass), token by token, with each
// token's attention rows (per layer, heads × keys over the prompt and the answer up to it), and the hovered
// answer token. Pure: reduceAnswer returns the new state; answerFocusRow reads one token's row for the
// controls' layer and head (mean over heads and over layers, or one of them).
import type { PanelAnswerRequest } from '../../src/shared/panelState';
import { assertNever, type AnswerMessage, type TokenInfo } from '../../src/shared/protocol';
import type { AttentionMode, HeadChoice, LayerChoice } from './aggregate';

export type AnswerPhase = 'none' | 'generating' | 'done' | 'stopped' | 'error';

export interface AnswerToken extends TokenInfo {
  readonly keys: number;
  readonly rows: readonly Float32Array[];
  /** Per layer, the token's rollout over the same keys (computed by the engine). */
  readonly rollout?: readonly Float32Array[];
  /** Per layer, its rows weighted by value norm (heads × keys), where the model's graph allows it. */
  readonly valueNorm?: readonly Float32Array[];
}

export interface AnswerState {
  readonly phase: AnswerPhase;
  /** The inspection the answer continues; an answer of another one is dropped. */
  readonly requestId: number;
  readonly text: string;
  readonly tokens: readonly AnswerToken[];
  readonly maxTokens: number;
  /** The text's own answer (after `---answer---`), read rather than generated. */
  readonly given?: boolean;
  /** A given answer read from this file (its URI). */
  readonly file?: string;
  /** A generated answer's sampling (what asks for it again after a window reload). */
  readonly temperature?: number;
  readonly seed?: number;
  readonly error?: string;
  readonly hover: number | null;
  /** The selected span's attribution, or the step it is at ('attributing'), or why it failed. */
  readonly attribution?: SpanAttribution;
  readonly attributing?: string;
  readonly attributionError?: string;
}

export type SpanAttribution = Omit<Extract<AnswerMessage, { event: 'attribution' }>, 'kind' | 'requestId' | 'event'>;

export const noAnswer: AnswerState = { phase: 'none', requestId: -1, text: '', tokens: [], maxTokens: 0, hover: null };

export type AnswerInput = AnswerMessage | { readonly kind: 'answer-hover'; readonly index: number | null };

/** The last part of a file URI's path, decoded ("notes/answer%201.txt" → "answer 1.txt"). */
export function fileLabel(uri: string): string {
  const last =
    uri
      .replace(/[?#].*$/, '')
      .split('/')
      .pop() ?? uri;
  try {
    return decodeURIComponent(last) || uri;
  } catch {
    return last || uri;
  }
}

export function reduceAnswer(state: AnswerState, input: AnswerInput): AnswerState {
  if (input.kind === 'answer-hover')
    return input.index === state.hover || (input.index !== null && input.index >= state.tokens.length)
      ? state
      : { ...state, hover: input.index };
  switch (input.event) {
    case 'start':
      return {
        ...noAnswer,
        phase: 'generating',
        requestId: input.requestId,
        maxTokens: input.maxTokens,
        ...(input.given ? { given: true } : {}),
        ...(input.given && input.file !== undefined ? { file: input.file } : {}),
        ...(input.temperature !== undefined ? { temperature: input.temperature } : {}),
        ...(input.seed !== undefined ? { seed: input.seed } : {}),
      };
    case 'token': {
      if (input.requestId !== state.requestId || state.phase !== 'generating') return state;
      const t = input.token;
      // The token's text replaces what the answer held from its start (a character completed by it).
      const text = state.text.slice(0, t.start) + t.text;
      const token: AnswerToken = {
        id: t.id,
        text: t.text,
        start: t.start,
        end: t.end,
        keys: t.keys,
        rows: t.rows,
        ...(t.rollout ? { rollout: t.rollout } : {}),
        ...(t.valueNorm ? { valueNorm: t.valueNorm } : {}),
      };
      return { ...state, text, tokens: [...state.tokens, token] };
    }
    case 'end':
      if (input.requestId !== state.requestId) return state;
      return {
        ...state,
        phase: input.error ? 'error' : input.stopped ? 'stopped' : 'done',
        ...(input.error ? { error: input.error } : {}),
      };
    case 'attributing':
      if (input.requestId !== state.requestId) return state;
      return { ...state, attributing: input.message, attributionError: undefined };
    case 'attribution': {
      if (input.requestId !== state.requestId) return state;
      const { kind: _kind, requestId: _id, event: _event, ...attribution } = input;
      return { ...state, attribution, attributing: undefined, attributionError: undefined };
    }
    case 'attribution-failed':
      if (input.requestId !== state.requestId) return state;
      return { ...state, attributing: undefined, attributionError: input.error };
    default:
      return assertNever(input);
  }
}

/**
 * How to ask for this answer again (after a window reload), once it is complete or stopped: the text's own,
 * or the same sampling up to the tokens it has. Null while it is being written, failed or absent.
 */
export function answerRequestOf(state: AnswerState): PanelAnswerRequest | null {
  if ((state.phase !== 'done' && state.phase !== 'stopped') || state.tokens.length === 0) return null;
  if (state.given) return state.file !== undefined ? { given: true, file: state.file } : { given: true };
  return { maxTokens: state.tokens.length, temperature: state.temperature ?? 0, seed: state.seed ?? 1 };
}

/**
 * The prompt shading of a span's attribution: each prompt token weighs what leaving its section out costs
 * the span (nats, 0 for a section the span does not need or is better without); `owner` maps tokens to
 * sections in the order of `starts` (the sections' starts, as sectionLayout gives them).
 */
export function attributionShading(
  attribution: SpanAttribution,
  starts: readonly number[],
  owner: ArrayLike<number>,
  tokens: number,
): { readonly vector: Float32Array; readonly max: number } {
  const effect = new Map(attribution.sections.map((s) => [s.start, Math.max(0, -s.logProbDelta)]));
  const bySection = starts.map((start) => effect.get(start) ?? 0);
  const vector = new Float32Array(tokens);
  let max = 0;
  for (let k = 0; k < tokens; k++) {
    const u = owner[k];
    vector[k] = u >= 0 ? (bySection[u] ?? 0) : 0;
    max = Math.max(max, vector[k]);
  }
  return { vector, max };
}

/** Whether `answerFocusRow` gives the token's rollout for this mode (else its attention). */
export function answerShowsRollout(token: AnswerToken, mode: AttentionMode): boolean {
  return mode === 'rollout' && token.rollout !== undefined && token.rollout.length > 0;
}

/** Whether `answerFocusRow` gives the token's attention × value norm for this mode (else its attention). */
export function answerShowsValueNorm(token: AnswerToken, mode: AttentionMode): boolean {
  return mode === 'value-norm' && token.valueNorm !== undefined && token.valueNorm.length > 0;
}

/**
 * The answer token's attention over the prompt and the answer before it (length = its keys), for the
 * controls' layer ('all': mean over layers) and head ('mean' over heads, 'max', or one head). In Rollout mode,
 * its rollout up to that layer ('all': through the last layer), as the prompt's tokens show theirs; in
 * "Attention × value norm" mode, its rows weighted by value norm, combined the same way as attention.
 */
export function answerFocusRow(
  token: AnswerToken,
  layer: LayerChoice,
  head: HeadChoice,
  mode: AttentionMode = 'attention',
): Float32Array {
  const keys = token.keys;
  if (answerShowsRollout(token, mode)) {
    const rollout = token.rollout ?? [];
    const row = rollout[layer === 'all' ? rollout.length - 1 : Math.min(layer, rollout.length - 1)];
    return Float32Array.from(row.subarray(0, keys));
  }
  const source = answerShowsValueNorm(token, mode) ? (token.valueNorm ?? token.rows) : token.rows;
  const layers = layer === 'all' ? source : [source[layer]].filter((r) => r !== undefined);
  const out = new Float32Array(keys);
  for (const rows of layers) {
    const heads = rows.length / keys;
    if (typeof head === 'number') {
      for (let k = 0; k < keys; k++) out[k] += rows[head * keys + k] ?? 0;
      continue;
    }
    for (let k = 0; k < keys; k++) {
      let acc = 0;
      for (let h = 0; h < heads; h++) {
        const v = rows[h * keys + k];
        acc = head === 'max' ? Math.max(acc, v) : acc + v / heads;
      }
      out[k] += acc;
    }
  }
  if (layers.length > 1) for (let k = 0; k < keys; k++) out[k] /= layers.length;
  return out;
}
