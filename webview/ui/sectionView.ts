// The prompt's own parts: its sections (roles, headings, paragraphs, tags, examples, …) with their tokens
// and the attention they receive, in total and per token; the section × section matrix (which section
// reads which); and the position profile of the final tokens by decile ("lost in the middle"). All from
// the matrix of the current layer / head / mode selection, so the panel's controls apply.
import type { TokenInfo } from '../../src/shared/protocol';
import { formatShare } from '../../src/shared/format';
import { attributionUnits, splitPromptSections } from '../../src/shared/sections';
import { positionProfile, sectionMatrix, tokenUnits } from '../../src/engine/analysis/sectionStats';
import { el } from './dom';

export interface SectionViewEvents {
  /** Focus a section's first token. */
  focus(index: number): void;
}

/** Final queries the position profile averages over. */
const PROFILE_QUERIES = 16;
/** Above this many sections the matrix is left out (it would not be readable). */
const MATRIX_LIMIT = 24;

export function renderSections(
  text: string,
  tokens: readonly TokenInfo[],
  matrix: Float32Array,
  events: SectionViewEvents,
): HTMLElement {
  const n = tokens.length;
  const units = attributionUnits(splitPromptSections(text));
  const owner = tokenUnits(tokens, units);
  const d = units.length;
  const received = new Float64Array(d);
  const count = new Int32Array(d);
  const first = new Int32Array(d).fill(-1);
  for (let k = 0; k < n; k++) {
    const u = owner[k];
    if (u < 0) continue;
    count[u]++;
    if (first[u] < 0) first[u] = k;
  }
  for (let q = 0; q < n; q++)
    for (let k = 0; k <= q; k++) if (owner[k] >= 0) received[owner[k]] += matrix[q * n + k] / n;
  const top = Math.max(1e-9, ...received);
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
  if (d >= 2 && d <= MATRIX_LIMIT) {
    const m = sectionMatrix(matrix, n, owner, d);
    const max = Math.max(1e-9, ...m);
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
  if (n > 10) {
    const profile = positionProfile(matrix, n, PROFILE_QUERIES);
    const pmax = Math.max(1e-9, ...profile.deciles);
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
