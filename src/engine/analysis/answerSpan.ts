// A span of the answer's characters, as ContextCite cites one sentence: which answer tokens it covers (a
// token counts when it overlaps the span), so attribution scores those tokens' log-probability only, with the
// answer before them still conditioning. Also the answer tokens' offsets in the answer's text. Pure.
import { EngineError } from '../engineError';

export interface AnswerSpan {
  readonly start: number;
  readonly end: number;
}

export interface OffsetToken {
  readonly id: number;
  readonly text: string;
  /** Offsets into the answer's text; the tokens' texts concatenate to it. */
  readonly start: number;
  readonly end: number;
}

/** Offsets of each token in decode(all): the text grows by what each prefix's decoding adds. */
export function answerTokens(ids: readonly number[], decode: (ids: readonly number[]) => string): OffsetToken[] {
  const text = decode(ids);
  const tokens: OffsetToken[] = [];
  let start = 0;
  for (let i = 0; i < ids.length; i++) {
    const prefix = i === ids.length - 1 ? text : decode(ids.slice(0, i + 1));
    // A prefix that ends inside a character decodes to a replacement character: keep the common part only.
    let end = 0;
    const max = Math.min(prefix.length, text.length);
    while (end < max && prefix.charCodeAt(end) === text.charCodeAt(end)) end++;
    end = Math.max(start, end);
    tokens.push({ id: ids[i], text: text.slice(start, end), start, end });
    start = end;
  }
  return tokens;
}

/** Per answer token, 1 when it overlaps the span; a span outside the answer or covering no token is one line. */
export function spanMask(
  spans: readonly { readonly start: number; readonly end: number }[],
  span: AnswerSpan,
  answerLength: number,
): Uint8Array {
  if (!(Number.isInteger(span.start) && Number.isInteger(span.end) && span.start >= 0 && span.end > span.start))
    throw new EngineError(`The span ${span.start}:${span.end} is not START:END with 0 ≤ START < END.`);
  if (span.end > answerLength)
    throw new EngineError(`The span ${span.start}:${span.end} ends past the answer's ${answerLength} characters.`);
  const mask = Uint8Array.from(spans, (t) => (t.start < span.end && t.end > span.start ? 1 : 0));
  if (!mask.includes(1)) throw new EngineError(`The span ${span.start}:${span.end} covers no answer token.`);
  return mask;
}
