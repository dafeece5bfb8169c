// The answer strip's state: the answer the model writes after the inspected prompt, token by token, with each
// token's attention rows (per layer, heads × keys over the prompt and the answer up to it), and the hovered
// answer token. Pure: reduceAnswer returns the new state; answerFocusRow reads one token's row for the
// controls' layer and head (mean over heads and over layers, or one of them).
import { assertNever, type AnswerMessage, type TokenInfo } from '../../src/shared/protocol';
import type { HeadChoice, LayerChoice } from './aggregate';

export type AnswerPhase = 'none' | 'generating' | 'done' | 'stopped' | 'error';

export interface AnswerToken extends TokenInfo {
  readonly keys: number;
  readonly rows: readonly Float32Array[];
}

export interface AnswerState {
  readonly phase: AnswerPhase;
  /** The inspection the answer continues; an answer of another one is dropped. */
  readonly requestId: number;
  readonly text: string;
  readonly tokens: readonly AnswerToken[];
  readonly maxTokens: number;
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

export function reduceAnswer(state: AnswerState, input: AnswerInput): AnswerState {
  if (input.kind === 'answer-hover')
    return input.index === state.hover || (input.index !== null && input.index >= state.tokens.length)
      ? state
      : { ...state, hover: input.index };
  switch (input.event) {
    case 'start':
      return { ...noAnswer, phase: 'generating', requestId: input.requestId, maxTokens: input.maxTokens };
    case 'token': {
      if (input.requestId !== state.requestId || state.phase !== 'generating') return state;
      const t = input.token;
      // The token's text replaces what the answer held from its start (a character completed by it).
      const text = state.text.slice(0, t.start) + t.text;
      const token: AnswerToken = { id: t.id, text: t.text, start: t.start, end: t.end, keys: t.keys, rows: t.rows };
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

/**
 * The answer token's attention over the prompt and the answer before it (length = its keys), for the
 * controls' layer ('all': mean over layers) and head ('mean' over heads, 'max', or one head).
 */
export function answerFocusRow(token: AnswerToken, layer: LayerChoice, head: HeadChoice): Float32Array {
  const keys = token.keys;
  const layers = layer === 'all' ? token.rows : [token.rows[layer]].filter((r) => r !== undefined);
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
