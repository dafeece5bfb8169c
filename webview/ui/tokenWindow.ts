// A long text in the token view as a window of chunks: only the chunks of lines near the scroll position are
// elements (a screen above and below), between two spacers that stand for the rest, so the document holds a
// few hundred token elements at any length and the scroll height is the whole text's. Chunk heights come from
// tokenChunks.ts (estimated from line lengths, then measured once drawn). TokenView owns the tokens' elements
// and shading; this class only says which tokens it made and which it dropped.
import type { LayoutPiece, TokenLayout } from '../model/tokenLayout';
import { chunkLayout, chunkOfToken, ChunkPlacement, type TextMetrics, type TokenChunk } from '../model/tokenChunks';
import { el } from './dom';

/** Tokens per chunk (closed at the next line break). */
const CHUNK_TOKENS = 128;
/** The window moves when the screen comes within this share of a screen of its edge. */
const MARGIN = 0.4;

export interface TokenWindowHooks {
  /** The element of a token piece (the window adds it to the document). */
  make(piece: Extract<LayoutPiece, { kind: 'token' }>): HTMLElement;
  /** Token `index`'s element left the document. */
  dropped(index: number): void;
  /** The window moved on its own (measured heights moved the chunks): the new tokens want their shading. */
  moved(): void;
}

export class TokenWindow {
  private readonly chunks: TokenChunk[];
  private readonly placement: ChunkPlacement;
  private readonly above = el('div', { class: 'tok-spacer', 'aria-hidden': 'true' });
  private readonly below = el('div', { class: 'tok-spacer', 'aria-hidden': 'true' });
  /** Drawn chunks [first, last] (last < first: none), by chunk index. */
  private readonly drawn = new Map<number, HTMLElement>();
  private first = 0;
  private last = -1;
  private width = 0;
  private measureQueued = false;
  /** Set when the view holds another text: a measurement still queued then does nothing. */
  private disposed = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly layout: TokenLayout,
    private readonly hooks: TokenWindowHooks,
  ) {
    this.chunks = chunkLayout(layout, CHUNK_TOKENS);
    root.replaceChildren(this.above, this.below);
    this.width = root.clientWidth;
    this.placement = new ChunkPlacement(this.chunks, this.metrics());
    // The first frame draws only what the screen needs; the first scroll widens the window.
    const height = this.root.clientHeight || window.innerHeight * 0.62;
    this.show(...this.placement.window(0, height, MARGIN * height));
    this.measureSoon();
  }

  /** The view moves on to another text. */
  dispose(): void {
    this.disposed = true;
  }

  /** Tokens [first, end) now in the document. */
  get tokens(): [number, number] {
    if (this.last < this.first) return [0, 0];
    return [this.chunks[this.first].firstToken, this.chunks[this.last].endToken];
  }

  /** Draws the chunks near the scroll position and drops the others; call after a scroll or a resize. */
  update(): void {
    let resized = false;
    if (this.root.clientWidth !== this.width && this.root.clientWidth > 0) {
      this.width = this.root.clientWidth;
      this.placement.setMetrics(this.metrics());
      resized = true;
    }
    const height = this.root.clientHeight || window.innerHeight * 0.62;
    // The window spans a screen above and below, and moves only when the screen comes within MARGIN of a screen of
    // its edge: most scroll frames then change nothing in the document (a change repaints the whole panel).
    const [needFirst, needLast] = this.placement.window(this.root.scrollTop, height, MARGIN * height);
    if (!resized && this.first <= needFirst && this.last >= needLast) return;
    const [a, b] = this.placement.window(this.root.scrollTop, height, height);
    this.show(a, b);
    this.measureSoon();
  }

  /**
   * The new chunks' heights replace their estimates in a task after this frame (its layout done, none forced in
   * the scroll's frame); scroll anchoring keeps the lines on screen still when chunks above them change height.
   */
  private measureSoon(): void {
    if (this.measureQueued) return;
    this.measureQueued = true;
    setTimeout(() => {
      this.measureQueued = false;
      if (this.disposed || !this.measureDrawn()) return;
      const first = this.first;
      const last = this.last;
      this.update();
      if (first !== this.first || last !== this.last) this.hooks.moved();
    }, 0);
  }

  /** Brings token `index`'s chunk into the document (scrolling the view there when it was not). */
  reveal(index: number): void {
    const c = chunkOfToken(this.chunks, index);
    if (c >= this.first && c <= this.last) return;
    const chunk = this.chunks[c];
    const share = (index - chunk.firstToken) / Math.max(1, chunk.endToken - chunk.firstToken);
    const y = this.placement.top(c) + share * (this.placement.top(c + 1) - this.placement.top(c));
    this.root.scrollTop = Math.max(0, y - (this.root.clientHeight || 0) / 2);
    this.update();
  }

  private show(a: number, b: number): void {
    for (const [c, div] of this.drawn) {
      if (c >= a && c <= b) continue;
      div.remove();
      this.drawn.delete(c);
      for (let i = this.chunks[c].firstToken; i < this.chunks[c].endToken; i++) this.hooks.dropped(i);
    }
    if (this.drawn.size === 0) {
      for (let c = a; c <= b; c++) this.root.insertBefore(this.draw(c), this.below);
    } else {
      let head = this.drawn.get(Math.max(a, this.first)) ?? this.below;
      for (let c = Math.min(this.first, b + 1) - 1; c >= a; c--) head = this.root.insertBefore(this.draw(c), head);
      for (let c = Math.max(this.last + 1, a); c <= b; c++) this.root.insertBefore(this.draw(c), this.below);
    }
    this.first = a;
    this.last = b;
    this.placeSpacers();
  }

  private draw(c: number): HTMLElement {
    const div = el('div', { class: 'tok-chunk' });
    const chunk = this.chunks[c];
    for (let p = chunk.firstPiece; p < chunk.endPiece; p++) {
      const piece = this.layout.pieces[p];
      div.append(piece.kind === 'gap' ? el('span', { class: 'gap' }, [piece.text]) : this.hooks.make(piece));
    }
    this.drawn.set(c, div);
    return div;
  }

  /** Measures the drawn chunks not measured yet; returns whether any height changed. */
  private measureDrawn(): boolean {
    let changed = false;
    for (const [c, div] of this.drawn)
      if (!this.placement.isMeasured(c))
        changed = this.placement.measure(c, div.getBoundingClientRect().height) || changed;
    if (changed) this.placeSpacers();
    return changed;
  }

  private placeSpacers(): void {
    const top = this.last < this.first ? 0 : this.placement.top(this.first);
    const bottom =
      this.last < this.first ? this.placement.total : this.placement.total - this.placement.top(this.last + 1);
    this.above.style.height = `${top}px`;
    this.below.style.height = `${bottom}px`;
  }

  /** The view's line height and how many characters fit on a line (monospace), measured with a probe. */
  private metrics(): TextMetrics {
    const style = getComputedStyle(this.root);
    const lineHeight = parseFloat(style.lineHeight) || 22;
    const probe = el('span', {}, ['0123456789'.repeat(8)]);
    this.root.append(probe);
    const charWidth = probe.getBoundingClientRect().width / 80;
    probe.remove();
    const inner = this.root.clientWidth - parseFloat(style.paddingLeft || '0') - parseFloat(style.paddingRight || '0');
    const charsPerLine = charWidth > 0 && inner > 0 ? Math.floor(inner / charWidth) : 80;
    return { charsPerLine, lineHeight };
  }
}
