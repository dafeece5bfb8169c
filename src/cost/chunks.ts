// Splitting a prompt into pieces that tokenize independently (count chunks and, in long lines, pieces). The
// sections the user sees come from the one section model, src/shared/promptSections.ts. Offsets are UTF-16 code
// units, [start, end).
import { isSpace } from '../shared/promptBlocks';

export interface Span {
  readonly start: number;
  readonly end: number;
}

/**
 * Cuts the text right after a newline that is followed by a non-whitespace character. No tokenizer we support
 * merges across such a cut: the tiktoken-style split regexes (o200k, cl100k, Llama 3, Qwen2) always end a
 * pre-token there, and no SentencePiece token (Llama 2, Mistral) contains a newline. So the sum of the chunks'
 * counts is the count of the whole text (a unit test checks it on every fixture), and an edit only
 * re-tokenizes the chunk it touches.
 */
export function splitCountChunks(text: string): Span[] {
  const chunks: Span[] = [];
  let start = 0;
  let newline = text.indexOf('\n');
  while (newline !== -1 && newline + 1 < text.length) {
    const next = text.charCodeAt(newline + 1);
    if (!isWhitespace(next)) {
      chunks.push({ start, end: newline + 1 });
      start = newline + 1;
    }
    newline = text.indexOf('\n', newline + 1);
  }
  if (start < text.length) chunks.push({ start, end: text.length });
  return chunks.some((chunk) => chunk.end - chunk.start > MAX_CHUNK)
    ? chunks.flatMap((chunk) => splitLongChunk(text, chunk))
    : chunks;
}

/** Lines longer than this are cut further, so one keystroke never re-tokenizes a huge line. */
export const MAX_CHUNK = 2048;

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** A space between two ASCII letters: no pre-token of the split regexes and no SentencePiece piece crosses it. */
function isWordGap(text: string, position: number): boolean {
  return (
    text.charCodeAt(position) === 0x20 &&
    isAsciiLetter(text.charCodeAt(position - 1)) &&
    isAsciiLetter(text.charCodeAt(position + 1))
  );
}

/**
 * Cuts a long chunk before a space between two letters, about every MAX_CHUNK characters (the vocabularies were
 * checked: no token holds a letter, a space and a letter, and no SentencePiece piece holds "x▁"). Text without
 * such gaps (e.g. CJK) stays whole.
 */
function splitLongChunk(text: string, chunk: Span): Span[] {
  if (chunk.end - chunk.start <= MAX_CHUNK) return [chunk];
  const pieces: Span[] = [];
  let start = chunk.start;
  while (chunk.end - start > MAX_CHUNK) {
    let cut = -1;
    for (let p = start + MAX_CHUNK; p > start + MAX_CHUNK / 2 && cut === -1; p--) if (isWordGap(text, p)) cut = p;
    for (let p = start + MAX_CHUNK + 1; p < chunk.end - 1 && cut === -1; p++) if (isWordGap(text, p)) cut = p;
    if (cut === -1) break;
    pieces.push({ start, end: cut });
    start = cut;
  }
  pieces.push({ start, end: chunk.end });
  return pieces;
}

/** Chunks longer than this are counted in pieces (splitCountPieces). */
export const LONG_CHUNK = 64;

/**
 * Cuts a long chunk into pieces counted apart, so typing in a line re-tokenizes a piece, not the line: before a
 * space between two ASCII letters (valid as in splitLongChunk) where the letters' codes differ by a multiple of 4,
 * about one gap in four (pieces of ~25 characters: SentencePiece in JS takes ~1.5 µs a character, so a keystroke in
 * a 400-character line costs ~0.05 ms, not 0.6). The choice depends only on the characters at the gap, not on
 * earlier cuts, so an edit changes only the pieces around it and the others are found again by their text.
 */
export function splitCountPieces(text: string, chunk: Span): Span[] {
  const pieces: Span[] = [];
  let start = chunk.start;
  for (let p = text.indexOf(' ', chunk.start + 1); p !== -1 && p < chunk.end - 1; p = text.indexOf(' ', p + 1)) {
    if (isWordGap(text, p) && ((text.charCodeAt(p + 1) - text.charCodeAt(p - 1)) & 3) === 0) {
      pieces.push({ start, end: p });
      start = p;
    }
  }
  pieces.push({ start, end: chunk.end });
  return pieces;
}

function isWhitespace(code: number): boolean {
  // \s in the split regexes: JavaScript's \s plus NEL (U+0085).
  return code === 0x85 || isSpace(code);
}
