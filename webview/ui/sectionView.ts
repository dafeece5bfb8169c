// The prompt's own parts: its sections (roles, headings, paragraphs, tags, examples, …) with their tokens
// and the attention they receive, in total and per token; the section × section matrix (which section
// reads which); and the position profile of the final tokens by decile ("lost in the middle"). All from
// the matrix of the current layer / head / mode selection, so the panel's controls apply. It only draws:
// the figures come from webview/model/sectionFigures.ts.
import { formatShare } from '../../src/shared/format';
import type { SectionFigures, SectionLayout } from '../model/sectionFigures';
import { el } from './dom';

export interface SectionViewEvents {
  /** Focus a section's first token. */
  focus(index: number): void;
}

export function renderSections(layout: SectionLayout, figures: SectionFigures, events: SectionViewEvents): HTMLElement {
  const { units, count, first } = layout;
  const { received } = figures;
  const d = units.length;
  const top = figures.receivedMax;
  const list = el('ol', { class: 'sections-list' });
  units.forEach((unit, u) => {
    const bar = el('span', { class: 'bar' });
    bar.style.width = `${Math.max(2, (received[u] / top) * 100)}%`;
    const perToken = count[u] ? received[u] / count[u] : 0;
    const button = el(
      'button',
      {
        class: 'section-row',
        'data-section-kind': unit.kind,
        'data-section-share': received[u].toFixed(6),
        title: `${unit.kind}: ${count[u]} tokens receive ${formatShare(received[u])} of the attention (${formatShare(perToken)} per token)`,
      },
      [
        el('span', { class: 'section-label' }, [
          el('span', { class: 'section-kind' }, [unit.kind]),
          ' ',
          el('span', { class: 'section-name' }, [unit.label]),
        ]),
        el('span', { class: 'section-tokens' }, [`${count[u]} tok`]),
        el('span', { class: 'driver-bar' }, [bar]),
        el('span', { class: 'section-value' }, [formatShare(received[u])]),
      ],
    );
    if (first[u] >= 0) button.addEventListener('click', () => events.focus(first[u]));
    list.append(el('li', {}, [button]));
  });
  const children: HTMLElement[] = [
    el('h3', {}, ['Sections: attention received']),
    d ? list : el('p', { class: 'muted' }, ['No sections found.']),
  ];
  if (figures.matrix) {
    const m = figures.matrix;
    const max = figures.matrixMax;
    const grid = el('table', { class: 'section-matrix' });
    grid.append(el('tr', {}, [el('th', {}, ['reads →']), ...units.map((_, b) => el('th', {}, [String(b + 1)]))]));
    units.forEach((unit, a) => {
      const cells = units.map((_, b) => {
        const v = m[a * d + b];
        const cell = el('td', {
          title: `${unit.label} → ${units[b].label}: ${formatShare(v)} of its attention`,
          'data-weight': v.toFixed(4),
        });
        cell.style.background = `color-mix(in srgb, var(--pa-shade) ${Math.round((v / max) * 100)}%, transparent)`;
        return cell;
      });
      grid.append(el('tr', {}, [el('th', { title: unit.label }, [`${a + 1}`]), ...cells]));
    });
    children.push(el('h3', {}, ['Which section reads which']), grid);
  }
  if (figures.profile) {
    const profile = figures.profile;
    const pmax = figures.profileMax;
    const bars = el('div', {
      class: 'position-profile',
      role: 'img',
      'aria-label': `Attention of the last ${profile.queries[1] - profile.queries[0] + 1} tokens by position decile`,
    });
    profile.deciles.forEach((v, i) => {
      const column = el('span', {
        class: 'decile',
        title: `${i * 10}–${i * 10 + 10} % of the text: ${formatShare(v)}`,
        'data-decile': i,
        'data-weight': v.toFixed(4),
      });
      column.style.height = `${Math.max(2, (v / pmax) * 48)}px`;
      bars.append(column);
    });
    children.push(
      el('h3', {}, [
        `Where the last ${profile.queries[1] - profile.queries[0] + 1} tokens look, by position (${formatShare(profile.sink)} went to the first token, left out)`,
      ]),
      bars,
    );
  }
  return el('div', { class: 'sections' }, children);
}
