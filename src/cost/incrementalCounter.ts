// Token counts that follow a document as it is edited: the text is cut into chunks that tokenize
// independently (see chunks.ts) and each chunk's count is cached by its text, so a keystroke re-tokenizes
// only the chunk it changed. `update` is what the editor calls per (debounced) change; the benchmark suite
// measures it.
import { splitCountChunks, type Section, type Span } from './chunks';
import type { TokenCounter } from './tokenCounters';

export interface ChunkCount extends Span {
  readonly tokens: number;
  /** Tokens before this chunk. */
  readonly before: number;
}

export interface CountSnapshot {
  readonly text: string;
  readonly total: number;
  readonly chunks: readonly ChunkCount[];
  /** Chunks that had to be tokenized in this update (the others came from the cache). */
  readonly tokenizedChunks: number;
}

export class IncrementalCounter {
  private cache = new Map<string, number>();
  private last: CountSnapshot | undefined;

  constructor(readonly counter: TokenCounter) {}

  update(text: string): CountSnapshot {
    if (this.last && this.last.text === text) return { ...this.last, tokenizedChunks: 0 };
    const spans = splitCountChunks(text);
    // A fresh map keyed by slices of the current text, so older versions of the document can be collected.
    const next = new Map<string, number>();
    const chunks: ChunkCount[] = [];
    let total = 0;
    let tokenizedChunks = 0;
    for (let i = 0; i < spans.length; i++) {
      const { start, end } = spans[i];
      const piece = text.slice(start, end);
      // The opening chunk tokenizes differently (SentencePiece's dummy prefix), so it has its own key.
      const key = i === 0 ? `\u0001${piece}` : piece;
      let tokens = next.get(key) ?? this.cache.get(key);
      if (tokens === undefined) {
        tokens = this.counter.count(piece, i === 0);
        tokenizedChunks++;
      }
      next.set(key, tokens);
      chunks.push({ start, end, tokens, before: total });
      total += tokens;
    }
    this.cache = next;
    this.last = { text, total, chunks, tokenizedChunks };
    return this.last;
  }

  /** Forgets the cache (e.g. when the target's tokenizer changes, make a new counter instead). */
  clear(): void {
    this.cache.clear();
    this.last = undefined;
  }
}

/** Tokens per section: each chunk counts for the section its first character lies in. */
export function countSections(snapshot: CountSnapshot, sections: readonly Section[]): number[] {
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
  const atStart = chunk.start === 0;
  let low = 1;
  let high = piece.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (counter.count(piece.slice(0, mid), atStart) >= wanted) high = mid;
    else low = mid + 1;
  }
  let end = chunk.start + low;
  // Never split a surrogate pair.
  const code = snapshot.text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff && end < chunk.end) end++;
  return end - 1;
}
