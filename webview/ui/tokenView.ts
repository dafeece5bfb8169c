// The inspected text, laid out as written, one element per token. Shading updates touch only the elements
// whose bucket or weight changed, so a hover at 2,048 tokens stays within a frame. Above SHADE_ALL_UP_TO
// tokens only those on screen (and a screen above and below) are shaded; a scroll shades the ones it brings
// in: an exact row changes nearly every token's weight, and writing 8,192 elements cost ~10× the frame.
import type { TokenInfo } from '../../src/shared/protocol';
import { shadeBucket } from '../model/colorScale';
import { layoutTokens, verticalNeighbour, type TokenLayout } from '../model/tokenLayout';
import { el } from './dom';
import { createTokenShading } from './tokenShading';

export interface TokenViewEvents {
  hover(index: number | null): void;
  pin(index: number | null): void;
  move(index: number): void;
}

/** Up to this many tokens a shading reaches every token; above, only those near the screen. */
export const SHADE_ALL_UP_TO = 2048;
/** Tokens per chunk of a long text (closed at the next line break). */
const CHUNK_TOKENS = 256;

export class TokenView {
  readonly root: HTMLElement;
  private elements: HTMLElement[] = [];
  private layout: TokenLayout | null = null;
  private buckets = new Uint8Array(0);
  private weights = new Float32Array(0);
  private focused: number | null = null;
  private readonly shading = createTokenShading();
  /** The shading asked for last (re-applied to the tokens a scroll brings on screen). */
  private vector: Float32Array | null = null;
  private max = 0;
  private scrollQueued = false;

  constructor(private readonly events: TokenViewEvents) {
    this.root = el('div', {
      class: 'tokens',
      role: 'listbox',
      tabindex: 0,
      'aria-label': 'Tokens. Arrow keys move the focus, Enter pins it, Escape clears it.',
    });
    this.root.addEventListener('pointerover', (e) => {
      const index = this.indexAt(e.target);
      if (index !== null) this.events.hover(index);
    });
    this.root.addEventListener('pointerleave', () => this.events.hover(null));
    this.root.addEventListener('click', (e) => {
      const index = this.indexAt(e.target);
      if (index !== null) this.events.pin(index);
    });
    this.root.addEventListener('keydown', (e) => this.onKey(e));
    // Any scroller (the page or a panel) may move tokens on screen: shade them in the next frame.
    document.addEventListener('scroll', () => this.onScroll(), { capture: true, passive: true });
  }

  private onScroll(): void {
    if (this.scrollQueued || this.elements.length <= SHADE_ALL_UP_TO) return;
    this.scrollQueued = true;
    requestAnimationFrame(() => {
      this.scrollQueued = false;
      this.paint(...this.nearScreen());
    });
  }

  /** [first, last] token index within a screen above and below the viewport (binary search on layout). */
  private nearScreen(): [number, number] {
    const els = this.elements;
    const height = window.innerHeight || 800;
    const top = (i: number): number => els[i]?.getBoundingClientRect().top ?? 0;
    const search = (y: number): number => {
      let lo = 0;
      let hi = els.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (top(mid) < y) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    return [Math.max(0, search(-height) - 1), Math.min(els.length - 1, search(2 * height))];
  }

  setTokens(text: string, tokens: readonly TokenInfo[]): void {
    this.layout = layoutTokens(text, tokens);
    const fragment = document.createDocumentFragment();
    this.elements = new Array<HTMLElement>(tokens.length);
    // Long texts go in chunks of lines (content-visibility: auto): the browser styles, lays out and paints only
    // the chunks near the screen, so a hover's frame does not grow with the text.
    const chunked = tokens.length > SHADE_ALL_UP_TO;
    let chunk: ParentNode = fragment;
    let inChunk = 0;
    const open = (): void => {
      const div = el('div', { class: 'tok-chunk' });
      fragment.append(div);
      chunk = div;
      inChunk = 0;
    };
    if (chunked) open();
    // A chunk closes after a line break (a block's trailing line break adds no line): the text reads as written.
    const closeAfter = (text: string): void => {
      if (chunked && inChunk >= CHUNK_TOKENS && text.endsWith('\n')) open();
    };
    for (const piece of this.layout.pieces) {
      if (piece.kind === 'gap') {
        chunk.append(el('span', { class: 'gap' }, [piece.text]));
        closeAfter(piece.text);
        continue;
      }
      inChunk++;
      const t = piece.token;
      const node = el('span', {
        class: `tok tok-${t.kind}${t.role ? ` role-${t.role}` : ''}`,
        'data-token-index': t.index,
        'data-weight': '0',
        role: 'option',
        id: `tok-${t.index}`,
      });
      node.textContent = t.display;
      this.elements[t.index] = node;
      chunk.append(node);
      closeAfter(t.display);
    }
    this.root.replaceChildren(fragment);
    this.shading.setElements(this.elements);
    this.buckets = new Uint8Array(tokens.length);
    this.weights = new Float32Array(tokens.length);
    this.focused = null;
  }

  get tokenCount(): number {
    return this.elements.length;
  }

  elementAt(index: number): HTMLElement | undefined {
    return this.elements[index];
  }

  setPalette(palette: string[]): void {
    this.shading.setPalette(palette);
  }

  /** Shades tokens by weight (relative to `max`); null clears all shading. */
  shade(vector: Float32Array | null, max: number): void {
    this.vector = vector;
    this.max = max;
    const n = this.elements.length;
    if (n <= SHADE_ALL_UP_TO) this.paint(0, n - 1);
    else this.paint(...this.nearScreen());
  }

  private paint(first: number, last: number): void {
    const els = this.elements;
    const { vector, max } = this;
    for (let i = first; i <= last; i++) {
      const w = vector ? vector[i] : 0;
      const bucket = shadeBucket(w, max);
      if (bucket !== this.buckets[i]) {
        this.shading.move(i, this.buckets[i], bucket);
        this.buckets[i] = bucket;
      }
      if (w !== this.weights[i]) {
        this.weights[i] = w;
        els[i].dataset.weight = w > 0 ? w.toPrecision(4) : '0';
      }
    }
  }

  setFocus(index: number | null, pinned: boolean, ariaLabel: string): void {
    if (this.focused !== null) {
      const prev = this.elements[this.focused];
      prev?.classList.remove('focus', 'pinned');
      prev?.removeAttribute('aria-selected');
      prev?.removeAttribute('aria-label');
    }
    this.focused = index;
    if (index === null) {
      this.root.removeAttribute('aria-activedescendant');
      return;
    }
    const node = this.elements[index];
    if (!node) return;
    node.classList.add('focus');
    node.classList.toggle('pinned', pinned);
    node.setAttribute('aria-selected', 'true');
    node.setAttribute('aria-label', ariaLabel);
    this.root.setAttribute('aria-activedescendant', node.id);
  }

  scrollIntoView(index: number): void {
    this.elements[index]?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  private indexAt(target: EventTarget | null): number | null {
    const node = target instanceof Element ? target.closest<HTMLElement>('[data-token-index]') : null;
    return node ? Number(node.dataset.tokenIndex) : null;
  }

  private onKey(e: KeyboardEvent): void {
    const n = this.elements.length;
    if (n === 0 || !this.layout) return;
    const at = this.focused;
    let next: number | null = null;
    switch (e.key) {
      case 'ArrowRight':
        next = at === null ? 0 : Math.min(n - 1, at + 1);
        break;
      case 'ArrowLeft':
        next = at === null ? 0 : Math.max(0, at - 1);
        break;
      case 'ArrowDown':
        next = at === null ? 0 : (verticalNeighbour(this.layout, at, 1) ?? at);
        break;
      case 'ArrowUp':
        next = at === null ? 0 : (verticalNeighbour(this.layout, at, -1) ?? at);
        break;
      case 'Home':
        next = 0;
        break;
      case 'End':
        next = n - 1;
        break;
      case 'Escape':
        e.preventDefault();
        this.events.pin(null);
        return;
      default:
        return;
    }
    e.preventDefault();
    this.events.move(next);
  }
}
