// Paints token shading. Where the CSS Custom Highlight API exists (Chromium ≥ 105, so every VS Code webview),
// each bucket is a Highlight over the tokens' text: a hover only moves ranges between highlights and costs a
// repaint, no style recalculation of hundreds of elements. Elsewhere, inline background colours.
import { SHADE_BUCKETS } from '../model/colorScale';

const PREFIX = 'pa-shade-';

export interface TokenShading {
  setElements(elements: readonly HTMLElement[]): void;
  setPalette(palette: readonly string[]): void;
  /** Moves token i from bucket `from` to bucket `to` (0 = unshaded). */
  move(i: number, from: number, to: number): void;
  /** A long text's token drawn (unshaded) or taken out of the document (moved to bucket 0 first). */
  attach(i: number, element: HTMLElement): void;
  detach(i: number): void;
}

function rangeOf(e: HTMLElement): StaticRange | null {
  return e.childNodes.length
    ? new StaticRange({ startContainer: e, startOffset: 0, endContainer: e, endOffset: e.childNodes.length })
    : null;
}

export function createTokenShading(): TokenShading {
  const registry = typeof CSS !== 'undefined' ? CSS.highlights : undefined;
  if (
    registry &&
    typeof Highlight === 'function' &&
    typeof StaticRange === 'function' &&
    'adoptedStyleSheets' in document
  ) {
    return new HighlightShading(registry);
  }
  return new InlineShading();
}

class HighlightShading implements TokenShading {
  private readonly highlights: Highlight[] = [];
  private readonly sheet = new CSSStyleSheet();
  private ranges: (StaticRange | null | undefined)[] = [];
  private elements: (HTMLElement | undefined)[] = [];
  private palette: readonly string[] = [];

  constructor(registry: HighlightRegistry) {
    for (let b = 1; b <= SHADE_BUCKETS; b++) {
      const h = new Highlight();
      registry.set(`${PREFIX}${b}`, h);
      this.highlights[b] = h;
    }
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, this.sheet];
  }

  setElements(elements: readonly HTMLElement[]): void {
    for (const h of this.highlights) h?.clear();
    this.elements = [...elements];
    // Empty tokens have no text to highlight; they fall back to an inline background.
    this.ranges = elements.map(rangeOf);
  }

  attach(i: number, element: HTMLElement): void {
    this.elements[i] = element;
    this.ranges[i] = rangeOf(element);
  }

  detach(i: number): void {
    this.elements[i] = undefined;
    this.ranges[i] = undefined;
  }

  setPalette(palette: readonly string[]): void {
    this.palette = palette;
    this.sheet.replaceSync(
      palette
        .map((colour, b) => (b === 0 ? '' : `::highlight(${PREFIX}${b}) { background-color: ${colour}; }`))
        .join('\n'),
    );
  }

  move(i: number, from: number, to: number): void {
    const range = this.ranges[i];
    if (!range) {
      const e = this.elements[i];
      if (e) e.style.backgroundColor = this.palette[to] ?? '';
      return;
    }
    if (from) this.highlights[from].delete(range);
    if (to) this.highlights[to].add(range);
  }
}

class InlineShading implements TokenShading {
  private elements: (HTMLElement | undefined)[] = [];
  private palette: readonly string[] = [];
  private buckets = new Uint8Array(0);

  setElements(elements: readonly HTMLElement[]): void {
    this.elements = [...elements];
    this.buckets = new Uint8Array(elements.length);
  }

  attach(i: number, element: HTMLElement): void {
    this.elements[i] = element;
    this.buckets[i] = 0;
  }

  detach(i: number): void {
    this.elements[i] = undefined;
    this.buckets[i] = 0;
  }

  setPalette(palette: readonly string[]): void {
    this.palette = palette;
    this.buckets.forEach((b, i) => {
      const e = this.elements[i];
      if (b && e) e.style.backgroundColor = palette[b];
    });
  }

  move(i: number, _from: number, to: number): void {
    this.buckets[i] = to;
    const e = this.elements[i];
    if (e) e.style.backgroundColor = this.palette[to] ?? '';
  }
}
