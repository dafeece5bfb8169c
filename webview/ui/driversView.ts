// The tokens that receive the most attention (sink excluded) and the strongest long-range pairs; each
// entry focuses its token when clicked.
import type { InspectionSummary, TokenInfo } from '../../src/shared/protocol';
import { formatShare } from '../../src/shared/format';
import { visibleTokenText } from '../model/tokenText';
import { SINK_INDEX } from '../model/aggregate';
import { el } from './dom';

export interface DriversEvents {
  focus(index: number): void;
}

export function renderDrivers(
  summary: InspectionSummary,
  tokens: readonly TokenInfo[],
  events: DriversEvents,
): HTMLElement {
  const drivers = summary.drivers.filter((d) => d.index !== SINK_INDEX && !tokens[d.index]?.special).slice(0, 10);
  const top = drivers.reduce((m, d) => Math.max(m, d.received), 0) || 1;
  const driverList = el('ol', { class: 'drivers-list' });
  for (const d of drivers) {
    const bar = el('span', { class: 'bar' });
    bar.style.width = `${Math.max(2, (d.received / top) * 100)}%`;
    const button = el(
      'button',
      {
        class: 'driver',
        'data-focus-index': d.index,
        title: `Token #${d.index} receives ${formatShare(d.received)} of all attention (mean over layers)`,
      },
      [
        el('span', { class: 'driver-text' }, [visibleTokenText(tokens[d.index]?.text ?? d.text, 28)]),
        el('span', { class: 'driver-bar' }, [bar]),
        el('span', { class: 'driver-value' }, [formatShare(d.received)]),
      ],
    );
    button.addEventListener('click', () => events.focus(d.index));
    driverList.append(el('li', {}, [button]));
  }
  const pairs = summary.longRangePairs.slice(0, 8);
  const pairList = el('ol', { class: 'pairs-list' });
  for (const p of pairs) {
    const button = el(
      'button',
      {
        class: 'pair',
        'data-focus-index': p.query,
        title: `Token #${p.query} attends to #${p.key}, ${p.distance} tokens back, with weight ${p.weight.toFixed(3)}`,
      },
      [
        el('span', { class: 'pair-q' }, [visibleTokenText(tokens[p.query]?.text ?? '', 16)]),
        el('span', { class: 'pair-arrow' }, ['→']),
        el('span', { class: 'pair-k' }, [visibleTokenText(tokens[p.key]?.text ?? '', 16)]),
        el('span', { class: 'pair-meta' }, [`${p.distance} back · ${p.weight.toFixed(2)}`]),
      ],
    );
    button.addEventListener('click', () => events.focus(p.query));
    pairList.append(el('li', {}, [button]));
  }
  return el('div', { class: 'drivers' }, [
    el('h3', {}, ['Most attended tokens']),
    drivers.length ? driverList : el('p', { class: 'muted' }, ['None beyond the first token.']),
    el('h3', {}, ['Strongest long-range pairs']),
    pairs.length ? pairList : el('p', { class: 'muted' }, ['No long-range pairs stand out.']),
  ]);
}
