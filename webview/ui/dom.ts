// Tiny DOM helpers. Text is only ever set through textContent; no HTML strings anywhere in the UI.

type Attrs = Record<string, string | number | boolean | undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs,
  children?: readonly (Node | string)[],
): HTMLElementTagNameMap[K];
export function el(tag: string, attrs?: Attrs, children?: readonly (Node | string)[]): HTMLElement;
export function el(tag: string, attrs: Attrs = {}, children: readonly (Node | string)[] = []): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') node.className = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag: string, attrs: Attrs = {}, children: readonly Node[] = []): SVGElement {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) node.setAttribute(name, String(value));
  for (const child of children) node.append(child);
  return node;
}

export function svgText(text: string, attrs: Attrs): SVGElement {
  const node = svg('text', attrs);
  node.textContent = text;
  return node;
}

/** Reads a CSS custom property's computed value on an element (after var() substitution). */
export function cssVar(element: Element, name: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim();
}

/** Coalesces calls into one per animation frame. */
export function frameScheduler(run: () => void): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      run();
    });
  };
}
