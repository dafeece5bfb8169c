// The inspected text, laid out as written, one element per token. Shading updates touch only the elements
// whose bucket or weight changed, so a hover at 2,048 tokens stays within a frame. Above SHADE_ALL_UP_TO
// tokens the text is a window (tokenWindow.ts): only the chunks of lines near the scroll position are
// elements, between spacers of the rest's height; a scroll draws the chunks it brings in and shades them from
// the row asked for last. Hover, pin, the keyboard and the editor's focus reach every token: a token out of the
// window is brought in when it is focused.
import type { TokenInfo } from '../../src/shared/protocol';
import { shadeBucket } from '../model/colorScale';
import { layoutTokens, verticalNeighbour, type LaidToken, type TokenLayout } from '../model/tokenLayout';
import { el } from './dom';
import { createTokenShading } from './tokenShading';
import { TokenWindow } from './tokenWindow';

export interface TokenViewEvents {
  hover(index: number | null): void;
  pin(index: number | null): void;
  move(index: number): void;
  /** The view scrolled (in the frame after): the tokens on screen changed. */
  scrolled?(): void;
}

/** Up to this many tokens every token is an element; above, only those near the scroll position. */
export const SHADE_ALL_UP_TO = 2048;

export class TokenView {
  readonly root: HTMLElement;
  /** Per token, its element (a long text: only those in the window). */
  private elements: (HTMLElement | undefined)[] = [];
  private layout: TokenLayout | null = null;
  private window: TokenWindow | null = null;
  /** The focus as last set, re-applied when its token's element is drawn again. */
  private focusPinned = false;
  private focusLabel = '';
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
    this.root.addEventListener('scroll', () => this.onScroll(), { passive: true });
    new ResizeObserver(() => this.onScroll()).observe(this.root);
  }

  /** A long text's window follows the scroll position (and the width) in the next frame. */
  private onScroll(): void {
    if (this.scrollQueued || (!this.window && !this.events.scrolled)) return;
    this.scrollQueued = true;
    requestAnimationFrame(() => {
      this.scrollQueued = false;
      if (this.window) {
        this.window.update();
        this.paintWindow();
      }
      this.events.scrolled?.();
    });
  }

  /** Tokens [first, end) on screen now (their elements overlap the view's box), found by bisection over the
   * elements in the document; [0, 0] when none is laid out (the view hidden). */
  visibleTokens(): [number, number] {
    const [from, to] = this.window ? this.window.tokens : [0, this.elements.length];
    const view = this.root.getBoundingClientRect();
    if (to <= from || view.height === 0) return [0, 0];
    const rect = (i: number): DOMRect | undefined => this.elements[i]?.getBoundingClientRect();
    let lo = from;
    let hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((rect(mid)?.bottom ?? Infinity) <= view.top) lo = mid + 1;
      else hi = mid;
    }
    const first = lo;
    hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((rect(mid)?.top ?? Infinity) < view.bottom) lo = mid + 1;
      else hi = mid;
    }
    return [first, lo];
  }

  private tokenNode(t: LaidToken, of: number | null): HTMLElement {
    const node = el('span', {
      class: `tok tok-${t.kind}${t.role ? ` role-${t.role}` : ''}`,
      'data-token-index': t.index,
      'data-weight': '0',
      role: 'option',
      id: `tok-${t.index}`,
      // In a window, assistive technology still hears where the token stands in the whole text.
      ...(of === null ? {} : { 'aria-setsize': of, 'aria-posinset': t.index + 1 }),
    });
    node.textContent = t.display;
    return node;
  }

  setTokens(text: string, tokens: readonly TokenInfo[]): void {
    this.window?.dispose();
    this.window = null;
    this.layout = layoutTokens(text, tokens);
    const n = tokens.length;
    this.buckets = new Uint8Array(n);
    this.weights = new Float32Array(n);
    this.focused = null;
    this.vector = null;
    this.elements = new Array<HTMLElement>(n);
    this.root.dataset.tokens = String(n);
    if (n > SHADE_ALL_UP_TO) {
      this.root.scrollTop = 0;
      this.shading.setElements(new Array<HTMLElement>(n));
      this.window = new TokenWindow(this.root, this.layout, {
        make: (piece) => this.made(this.tokenNode(piece.token, n)),
        dropped: (index) => this.dropped(index),
        moved: () => this.paintWindow(),
      });
      return;
    }
    const fragment = document.createDocumentFragment();
    for (const piece of this.layout.pieces) {
      if (piece.kind === 'gap') {
        fragment.append(el('span', { class: 'gap' }, [piece.text]));
        continue;
      }
      const node = this.tokenNode(piece.token, null);
      this.elements[piece.token.index] = node;
      fragment.append(node);
    }
    this.root.replaceChildren(fragment);
    this.shading.setElements(this.elements as HTMLElement[]);
  }

  /** A long text's token element entering the window: unshaded until painted, focused if it is the focus. */
  private made(node: HTMLElement): HTMLElement {
    const i = Number(node.dataset.tokenIndex);
    this.elements[i] = node;
    this.buckets[i] = 0;
    this.weights[i] = 0;
    this.shading.attach(i, node);
    if (i === this.focused) this.markFocus(node, this.focusPinned, this.focusLabel);
    return node;
  }

  private dropped(i: number): void {
    if (this.buckets[i]) this.shading.move(i, this.buckets[i], 0);
    this.buckets[i] = 0;
    this.weights[i] = 0;
    this.shading.detach(i);
    this.elements[i] = undefined;
    if (i === this.focused) this.root.removeAttribute('aria-activedescendant');
  }

  /** Shades the window's tokens from the row asked for last. */
  private paintWindow(): void {
    const [first, end] = this.window?.tokens ?? [0, 0];
    if (end > first) this.paint(first, end - 1);
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
    if (this.window) this.paintWindow();
    else this.paint(0, this.elements.length - 1);
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
        const e = els[i];
        if (e) e.dataset.weight = w > 0 ? w.toPrecision(4) : '0';
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
    this.focusPinned = pinned;
    this.focusLabel = ariaLabel;
    if (index === null) {
      this.root.removeAttribute('aria-activedescendant');
      return;
    }
    const node = this.elements[index];
    if (node) this.markFocus(node, pinned, ariaLabel);
    else this.root.removeAttribute('aria-activedescendant');
  }

  private markFocus(node: HTMLElement, pinned: boolean, ariaLabel: string): void {
    node.classList.add('focus');
    node.classList.toggle('pinned', pinned);
    node.setAttribute('aria-selected', 'true');
    node.setAttribute('aria-label', ariaLabel);
    this.root.setAttribute('aria-activedescendant', node.id);
  }

  /** Scrolls token `index` into view; returns whether its element had to be drawn first (a long text). */
  scrollIntoView(index: number): boolean {
    const drawn = this.window !== null && !this.elements[index];
    if (drawn) {
      this.window?.reveal(index);
      this.paintWindow();
    }
    this.elements[index]?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    return drawn;
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
