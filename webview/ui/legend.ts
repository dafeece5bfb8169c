// A key for the panel's terms: the head roles of the head grid (broad, local, prev, induct, sink), the modes
// (attention, rollout), the sink and the threshold. A "?" that opens a small glossary (native <details>, no
// state), placed in the toolbar and on the heads card.
import { el } from './dom';

export const TERMS: readonly (readonly [string, string])[] = [
  ['Attention', 'Mode: the attention weights of the chosen layer and head (all layers: their mean).'],
  [
    'Rollout',
    'Mode: attention composed through the layers with the residual path (Abnar & Zuidema 2020): how much each earlier token reaches the focus in the end.',
  ],
  ['Attends to / attended by', 'Show what the focused token looks at, or which tokens look at it.'],
  ['sink', 'The first token: many heads park unused attention there. A sink head puts most of its weight on it.'],
  ['Hide sink', 'Leave the first token out and rescale each row to 1, so the rest of the pattern shows.'],
  ['Threshold', 'Weights below this value are not shaded (0 shows everything).'],
  ['prev', 'Previous-token head: attends mostly to the token just before.'],
  ['local', 'Local head: attends to the few tokens just before.'],
  ['induct', 'Induction head: attends to the token after an earlier copy of the current one (it continues patterns).'],
  ['broad', 'Broad head: spreads its attention over much of the text.'],
];

/** A "?" toggle with the glossary; `terms` picks which entries (default all). */
export function renderLegend(terms: readonly string[] | null = null): HTMLElement {
  const list = el('dl', { class: 'legend-list' });
  for (const [term, meaning] of TERMS) {
    if (terms && !terms.includes(term)) continue;
    list.append(el('dt', {}, [term]), el('dd', {}, [meaning]));
  }
  return el('details', { class: 'legend' }, [
    el('summary', { title: 'What the terms mean', 'aria-label': 'What the terms mean' }, ['?']),
    list,
  ]);
}
