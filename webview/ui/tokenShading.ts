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
  private ranges: (StaticRange | null)[] = [];
  private elements: readonly HTMLElement[] = [];
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
    this.elements = elements;
    // Empty tokens have no text to highlight; they fall back to an inline background.
    this.ranges = elements.map((e) =>
      e.childNodes.length
        ? new StaticRange({ startContainer: e, startOffset: 0, endContainer: e, endOffset: e.childNodes.length })
        : null,
    );
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
      this.elements[i].style.backgroundColor = this.palette[to] ?? '';
      return;
    }
    if (from) this.highlights[from].delete(range);
    if (to) this.highlights[to].add(range);
  }
}

class InlineShading implements TokenShading {
  private elements: readonly HTMLElement[] = [];
  private palette: readonly string[] = [];
  private buckets = new Uint8Array(0);

  setElements(elements: readonly HTMLElement[]): void {
    this.elements = elements;
    this.buckets = new Uint8Array(elements.length);
  }

  setPalette(palette: readonly string[]): void {
    this.palette = palette;
    this.buckets.forEach((b, i) => b && (this.elements[i].style.backgroundColor = palette[b]));
  }

  move(i: number, _from: number, to: number): void {
    this.buckets[i] = to;
    this.elements[i].style.backgroundColor = this.palette[to] ?? '';
  }
}
