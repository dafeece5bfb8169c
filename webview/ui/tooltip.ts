// One floating tooltip listing the exact weights of the focused token's top tokens.
import type { AttendedToken, TokenInfo } from '../../src/shared/protocol';
import { formatWeight, visibleTokenText } from '../model/tokenText';
import { el } from './dom';

export class Tooltip {
  readonly root: HTMLElement;

  constructor() {
    this.root = el('div', { class: 'tooltip', role: 'tooltip', hidden: true });
  }

  show(
    anchor: HTMLElement,
    title: string,
    top: readonly AttendedToken[],
    tokens: readonly TokenInfo[],
    max: number,
  ): void {
    const rows = top.map((t) => {
      const bar = el('span', { class: 'tt-bar' });
      bar.style.width = `${max > 0 ? Math.max(3, (t.weight / max) * 100) : 0}%`;
      return el('div', { class: 'tt-row' }, [
        el('span', { class: 'tt-token' }, [
          tokens[t.index]?.special ? '⟨bos⟩' : visibleTokenText(tokens[t.index]?.text ?? '', 20),
        ]),
        el('span', { class: 'tt-track' }, [bar]),
        el('span', { class: 'tt-weight' }, [formatWeight(t.weight)]),
      ]);
    });
    this.root.replaceChildren(
      el('div', { class: 'tt-title' }, [title]),
      ...(rows.length ? rows : [el('div', { class: 'muted' }, ['Nothing above the threshold.'])]),
    );
    this.root.hidden = false;
    const a = anchor.getBoundingClientRect();
    const t = this.root.getBoundingClientRect();
    const below = a.bottom + 6 + t.height < window.innerHeight;
    const top0 = below ? a.bottom + 6 : Math.max(4, a.top - t.height - 6);
    const left = Math.min(Math.max(4, a.left), window.innerWidth - t.width - 8);
    this.root.style.transform = `translate(${Math.round(left)}px, ${Math.round(top0)}px)`;
  }

  hide(): void {
    this.root.hidden = true;
  }
}
