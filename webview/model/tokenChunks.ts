// A long text's token layout cut into chunks of whole lines, and where each chunk sits: the token view keeps
// only the chunks near its scroll position as elements (tokenView.ts), and spacers stand for the others. A chunk's
// height is estimated from its line lengths until it has been drawn once, then measured. Pure arithmetic.
import type { TokenLayout } from './tokenLayout';

export interface TokenChunk {
  /** Pieces [firstPiece, endPiece) of the layout. */
  readonly firstPiece: number;
  readonly endPiece: number;
  /** Tokens [firstToken, endToken). */
  readonly firstToken: number;
  readonly endToken: number;
  /** Characters on each of the chunk's lines (as written; a line wraps when it is longer than the view). */
  readonly lines: readonly number[];
}

/**
 * Chunks of about `size` tokens, each closed after a line break (a block's trailing line break adds no line, so
 * the text reads as written); a line longer than 4 × `size` tokens is cut where it reaches that.
 */
export function chunkLayout(layout: TokenLayout, size: number): TokenChunk[] {
  const chunks: TokenChunk[] = [];
  let firstPiece = 0;
  let firstToken = 0;
  let tokens = 0;
  let lines: number[] = [0];
  const close = (endPiece: number, endToken: number): void => {
    if (lines.length > 1 && lines[lines.length - 1] === 0) lines.pop();
    chunks.push({ firstPiece, endPiece, firstToken, endToken, lines });
    firstPiece = endPiece;
    firstToken = endToken;
    tokens = 0;
    lines = [0];
  };
  const pieces = layout.pieces;
  for (let p = 0; p < pieces.length; p++) {
    const piece = pieces[p];
    const text = piece.kind === 'gap' ? piece.text : piece.token.display;
    // A chip shows its label plus some padding: about two characters more.
    if (piece.kind === 'token' && piece.token.kind === 'special') lines[lines.length - 1] += 2;
    for (const [i, part] of text.split('\n').entries()) {
      if (i > 0) lines.push(0);
      lines[lines.length - 1] += part.length;
    }
    if (piece.kind === 'token') tokens++;
    const endToken = piece.kind === 'token' ? piece.token.index + 1 : firstToken + tokens;
    if ((tokens >= size && text.endsWith('\n')) || tokens >= 4 * size) close(p + 1, endToken);
  }
  if (firstPiece < pieces.length || chunks.length === 0) close(pieces.length, layout.tokens.length);
  return chunks;
}

/** The chunk holding token `index` (chunks cover the tokens in order). */
export function chunkOfToken(chunks: readonly TokenChunk[], index: number): number {
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (chunks[mid].firstToken <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** How wide and tall the view's text is: characters a line holds before it wraps, and pixels a line takes. */
export interface TextMetrics {
  readonly charsPerLine: number;
  readonly lineHeight: number;
}

/** A chunk's height before it is drawn: each line wraps into ⌈chars / charsPerLine⌉ rows (at least one). */
export function estimateHeight(chunk: TokenChunk, m: TextMetrics): number {
  const per = Math.max(1, m.charsPerLine);
  let rows = 0;
  for (const chars of chunk.lines) rows += Math.max(1, Math.ceil(chars / per));
  return rows * m.lineHeight;
}

/** Each chunk's height (measured once drawn, else estimated) and its top, for the view's spacers and window. */
export class ChunkPlacement {
  private readonly heights: Float64Array;
  private readonly measured: Uint8Array;
  private readonly tops: Float64Array;
  private dirty = true;

  constructor(
    private readonly chunks: readonly TokenChunk[],
    metrics: TextMetrics,
  ) {
    this.heights = new Float64Array(chunks.length);
    this.measured = new Uint8Array(chunks.length);
    this.tops = new Float64Array(chunks.length + 1);
    this.setMetrics(metrics);
  }

  /** New text metrics (the view was resized): every height is an estimate again. */
  setMetrics(metrics: TextMetrics): void {
    this.measured.fill(0);
    this.chunks.forEach((c, i) => (this.heights[i] = estimateHeight(c, metrics)));
    this.dirty = true;
  }

  /** A drawn chunk's height; returns whether it differed from what was assumed. */
  measure(chunk: number, height: number): boolean {
    this.measured[chunk] = 1;
    if (Math.abs(this.heights[chunk] - height) < 0.5) return false;
    this.heights[chunk] = height;
    this.dirty = true;
    return true;
  }

  isMeasured(chunk: number): boolean {
    return this.measured[chunk] === 1;
  }

  /** The top of chunk `c` (c = chunks.length: the total height). */
  top(c: number): number {
    if (this.dirty) {
      for (let i = 0; i < this.chunks.length; i++) this.tops[i + 1] = this.tops[i] + this.heights[i];
      this.dirty = false;
    }
    return this.tops[c];
  }

  get total(): number {
    return this.top(this.chunks.length);
  }

  /** The chunk at height y (clamped to the first and last). */
  chunkAt(y: number): number {
    this.top(0);
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.tops[mid] <= y) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Chunks [first, last] that meet [top − overscan, top + height + overscan]. */
  window(top: number, height: number, overscan: number): [number, number] {
    return [this.chunkAt(top - overscan), this.chunkAt(top + height + overscan)];
  }
}
