// Token counts that follow a document as it is edited: the text is cut into chunks that tokenize
// independently (see chunks.ts) and each chunk's count is cached by its text, so a keystroke re-tokenizes
// only the chunk it changed; a long chunk (a long line) is counted in pieces, and only the edited piece is
// tokenized again. `update` is what the tokenizer worker calls per (debounced) change; the benchmark suite
// measures it.
import { LONG_CHUNK, splitCountChunks, splitCountPieces, type Span } from './chunks';
import { diffTexts, type TextEdit } from './textEdit';
import type { TokenCounter } from './tokenCounters';

export interface ChunkCount extends Span {
  readonly tokens: number;
  /** Tokens before this chunk. */
  readonly before: number;
  /** A long chunk's count per piece (splitCountPieces), so an edit in it re-tokenizes only its piece. */
  readonly pieces?: readonly number[];
}

export interface CountSnapshot {
  readonly text: string;
  readonly total: number;
  readonly chunks: readonly ChunkCount[];
  /** Chunks that had to be tokenized in this update (the others came from the cache). */
  readonly tokenizedChunks: number;
}

export class IncrementalCounter {
  private last: CountSnapshot | undefined;

  constructor(readonly counter: TokenCounter) {}

  /**
   * Counts `text`, reusing the previous update: the chunks before the first changed character and after the
   * last one are kept (the latter shifted), and only the chunks in between are split again; those whose text
   * was already there are not re-tokenized. A keystroke costs a prefix/suffix comparison plus one chunk; with
   * `change` (the edit that made `text` from `change.from`) no comparison when `from` is the last text.
   */
  update(text: string, change?: { readonly from: string; readonly edit: TextEdit }): CountSnapshot {
    const last = this.last;
    if (!last || last.chunks.length === 0)
      return this.remember(text, [], 0, text.length, [], 0, { chunks: new Map(), pieces: new Map() });
    if (last.text === text) return { ...last, tokenizedChunks: 0 };
    const old = last.text;
    const edit = change && change.from === old ? change.edit : diffTexts(old, text);
    const prefix = edit.start;
    const suffix = old.length - edit.end;
    // A cut at q depends on the characters at q - 1 and q: cuts before the change and after it survive.
    let head = 0;
    while (head < last.chunks.length && last.chunks[head].end < prefix) head++;
    let tail = last.chunks.length;
    while (tail > head && last.chunks[tail - 1].start > old.length - suffix) tail--;
    const regionStart = head > 0 ? last.chunks[head - 1].end : 0;
    const delta = text.length - old.length;
    const regionEnd = tail < last.chunks.length ? last.chunks[tail].start + delta : text.length;
    const known: Known = { chunks: new Map(), pieces: new Map() };
    for (let i = head; i < tail; i++) {
      const chunk = last.chunks[i];
      known.chunks.set(chunkKey(old.slice(chunk.start, chunk.end), chunk.start === 0), chunk);
      const counts = chunk.pieces;
      if (!counts) continue;
      const spans = splitCountPieces(old, chunk);
      if (spans.length !== counts.length) continue;
      spans.forEach((span, p) =>
        known.pieces.set(chunkKey(old.slice(span.start, span.end), span.start === 0), counts[p]),
      );
    }
    return this.remember(
      text,
      last.chunks.slice(0, head),
      regionStart,
      regionEnd,
      last.chunks.slice(tail),
      delta,
      known,
    );
  }

  private remember(
    text: string,
    chunks: ChunkCount[],
    regionStart: number,
    regionEnd: number,
    after: readonly ChunkCount[],
    delta: number,
    known: Known,
  ): CountSnapshot {
    const lastKept = chunks[chunks.length - 1];
    let total = lastKept ? lastKept.before + lastKept.tokens : 0;
    let tokenizedChunks = 0;
    for (const span of splitCountChunks(text.slice(regionStart, regionEnd))) {
      const start = span.start + regionStart;
      const end = span.end + regionStart;
      const piece = text.slice(start, end);
      // The opening chunk tokenizes differently (SentencePiece's dummy prefix).
      const same = known.chunks.get(chunkKey(piece, start === 0));
      let counted: ChunkCount;
      if (same) counted = moved(same, start, end, total);
      else {
        counted =
          end - start > LONG_CHUNK
            ? this.countPieces(text, { start, end }, known.pieces, total)
            : { start, end, tokens: this.counter.count(piece, start === 0), before: total };
        tokenizedChunks++;
      }
      chunks.push(counted);
      total += counted.tokens;
    }
    for (const chunk of after) {
      chunks.push(moved(chunk, chunk.start + delta, chunk.end + delta, total));
      total += chunk.tokens;
    }
    this.last = { text, total, chunks, tokenizedChunks };
    return this.last;
  }

  /** A long chunk as the sum of its pieces; a piece already counted in the edited chunks is not tokenized again. */
  private countPieces(text: string, chunk: Span, known: ReadonlyMap<string, number>, before: number): ChunkCount {
    const pieces: number[] = [];
    let tokens = 0;
    for (const span of splitCountPieces(text, chunk)) {
      const piece = text.slice(span.start, span.end);
      const count = known.get(chunkKey(piece, span.start === 0)) ?? this.counter.count(piece, span.start === 0);
      pieces.push(count);
      tokens += count;
    }
    return { start: chunk.start, end: chunk.end, tokens, before, pieces };
  }

  /** Forgets the previous text: the next update counts everything. */
  clear(): void {
    this.last = undefined;
  }
}

/** A chunk's count at another place (literals, not a spread: this runs for every chunk after the edit). */
function moved(chunk: ChunkCount, start: number, end: number, before: number): ChunkCount {
  const { tokens, pieces } = chunk;
  return pieces ? { start, end, tokens, before, pieces } : { start, end, tokens, before };
}

/** Counts from the previous update, by text: of the chunks around the edit and of their pieces. */
interface Known {
  readonly chunks: Map<string, ChunkCount>;
  readonly pieces: Map<string, number>;
}

function chunkKey(piece: string, opening: boolean): string {
  return opening ? `\u0001${piece}` : piece;
}

/** Tokens per section: each chunk counts for the section its first character lies in. */
export function countSections(snapshot: CountSnapshot, sections: readonly Span[]): number[] {
  const counts = sections.map(() => 0);
  let s = 0;
  for (const chunk of snapshot.chunks) {
    while (s + 1 < sections.length && chunk.start >= sections[s].end) s++;
    if (sections.length > 0) counts[s] += chunk.tokens;
  }
  return counts;
}

/**
 * Where token number `tokenNumber` (1-based) begins: the UTF-16 offset of the last character of the shortest
 * prefix that has that many tokens (a new token is counted as soon as its first character appears), or null if
 * the text has fewer tokens. Within its chunk it is found by binary search on prefix counts.
 */
export function offsetOfToken(snapshot: CountSnapshot, counter: TokenCounter, tokenNumber: number): number | null {
  if (tokenNumber < 1 || tokenNumber > snapshot.total) return null;
  const chunk = snapshot.chunks.find((c) => c.before + c.tokens >= tokenNumber);
  if (!chunk) return null;
  const wanted = tokenNumber - chunk.before;
  const piece = snapshot.text.slice(chunk.start, chunk.end);
  const known = prefixCountsOf(counter, `${chunk.start === 0 ? 1 : 0}|${piece}`);
  let prefixTokens: ((n: number) => number) | undefined;
  const tokensIn = (n: number): number => {
    let tokens = known.get(n);
    if (tokens === undefined) {
      prefixTokens ??= prefixCounter(snapshot.text, chunk, counter);
      known.set(n, (tokens = prefixTokens(n)));
    }
    return tokens;
  };
  let low = 1;
  let high = piece.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (tokensIn(mid) >= wanted) high = mid;
    else low = mid + 1;
  }
  let end = chunk.start + low;
  // Never split a surrogate pair.
  const code = snapshot.text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff && end < chunk.end) end++;
  return end - 1;
}

/**
 * The prefix counts already computed for a chunk's text (keyed with whether it opens the text). Diagnostics ask
 * again after every keystroke and the crossing chunk rarely changes, but an edit before it shifts the token wanted
 * in it: the search for the new one takes the same steps until it nears the answer, and those come from here.
 */
function prefixCountsOf(counter: TokenCounter, key: string): Map<number, number> {
  let chunks = prefixCounts.get(counter);
  if (!chunks) prefixCounts.set(counter, (chunks = new Map()));
  let known = chunks.get(key);
  if (known)
    chunks.delete(key); // used last: kept longest
  else {
    if (chunks.size >= 64) chunks.delete(chunks.keys().next().value as string);
    known = new Map();
  }
  chunks.set(key, known);
  return known;
}

const prefixCounts = new WeakMap<TokenCounter, Map<string, Map<number, number>>>();

/**
 * Tokens in the chunk's first n characters. In a chunk counted in pieces, the pieces wholly before the prefix's
 * last one give their counts and only that one is tokenized (the cuts are valid for a prefix too), so the search
 * costs a piece per step, not the line; the values are those of counting the whole prefix.
 */
function prefixCounter(text: string, chunk: ChunkCount, counter: TokenCounter): (n: number) => number {
  const atStart = chunk.start === 0;
  const counts = chunk.pieces;
  const spans = counts ? splitCountPieces(text, chunk) : [];
  if (!counts || spans.length !== counts.length)
    return (n) => counter.count(text.slice(chunk.start, chunk.start + n), atStart);
  return (n) => {
    const end = chunk.start + n;
    let k = 0;
    let before = 0;
    // A piece is used once the prefix holds its space and the letter after it: letter, space, letter.
    while (k + 1 < spans.length && spans[k + 1].start + 1 < end) before += counts[k++];
    return before + counter.count(text.slice(spans[k].start, end), spans[k].start === 0);
  };
}
