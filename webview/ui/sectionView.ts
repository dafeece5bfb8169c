// The prompt's own parts: its sections (roles, headings, paragraphs, tags, examples, …) with their tokens, for
// the inspecting model and, beside it, for your target (the editor's CodeLens count), their nested examples and
// turns, and the attention they receive, in total and per token; the section × section matrix (which section
// reads which, by short names); and the position profile of the final tokens by decile ("lost in the middle"),
// with its axes. All from the matrix of the current layer / head / mode selection, so the panel's controls
// apply. It only draws: the figures come from webview/model/sectionFigures.ts.
import type { CostSummary } from '../../src/shared/protocol';
import { formatCount, formatShare } from '../../src/shared/format';
import type { SpanAttribution } from '../model/answerStrip';
import type { SectionFigures, SectionLayout } from '../model/sectionFigures';
import { el } from './dom';

export interface SectionViewEvents {
  /** Focus a section's first token. */
  focus(index: number): void;
}

/** The target's count for each unit, matched by span (the cost summary splits the same text the same way). */
function targetCounts(layout: SectionLayout, cost: CostSummary | undefined): (number | null)[] {
  const byspan = new Map((cost?.sections ?? []).map((s) => [`${s.start}:${s.end}`, s.tokens]));
  return layout.cover.map((c) => byspan.get(`${c.start}:${c.end}`) ?? null);
}

export function renderSections(
  layout: SectionLayout,
  figures: SectionFigures,
  events: SectionViewEvents,
  model: string,
  cost?: CostSummary,
  /** A selected answer span's attribution (the answer strip): each section row then shows what the span needs. */
  attribution?: SpanAttribution,
): HTMLElement {
  const { units, count, first } = layout;
  const bySpan = new Map((attribution?.sections ?? []).map((s) => [s.start, s]));
  const { received } = figures;
  const d = units.length;
  const top = figures.receivedMax;
  const target = targetCounts(layout, cost);
  const list = el('ol', { class: attribution ? 'sections-list with-span' : 'sections-list' });
  const row = (
    attrs: Record<string, string>,
    kind: string,
    label: string,
    tokens: string,
    share: number | null,
    onClick: (() => void) | null,
    extra: HTMLElement[] = [],
  ): HTMLElement => {
    const bar = el('span', { class: 'bar' });
    if (share !== null) bar.style.width = `${Math.max(2, (share / top) * 100)}%`;
    const button = el('button', attrs, [
      el('span', { class: 'section-label' }, [
        el('span', { class: 'section-kind' }, [kind]),
        ' ',
        el('span', { class: 'section-name' }, [label]),
      ]),
      el('span', { class: 'section-tokens' }, [tokens]),
      el('span', { class: 'driver-bar' }, share === null ? [] : [bar]),
      el('span', { class: 'section-value' }, [share === null ? '' : formatShare(share)]),
      ...extra,
    ]);
    if (onClick) button.addEventListener('click', onClick);
    return button;
  };
  units.forEach((unit, u) => {
    const t = target[u];
    const perToken = count[u] ? received[u] / count[u] : 0;
    const title = [
      `${unit.kind} "${unit.label}": ${formatCount(count[u])} tokens for ${model}`,
      t !== null && cost ? `, ${formatCount(t)} for ${cost.targetName} (your target, as the CodeLens count)` : '',
      `; they receive ${formatShare(received[u])} of the attention (${formatShare(perToken)} per token)`,
    ].join('');
    const button = row(
      {
        class: 'section-row',
        'data-section-kind': unit.kind,
        'data-section-label': unit.label,
        'data-section-share': received[u].toFixed(6),
        'data-tokens': String(count[u]),
        ...(t !== null ? { 'data-target-tokens': String(t) } : {}),
        title,
      },
      unit.kind,
      unit.label,
      t !== null ? `${formatCount(count[u])} · ${formatCount(t)}` : `${formatCount(count[u])} tok`,
      received[u],
      first[u] >= 0 ? () => events.focus(first[u]) : null,
      attribution ? [spanCell(bySpan.get(unit.start))] : [],
    );
    const nested = layout.nested[u].map((n) =>
      el('li', { class: `section-nested level-${n.level}` }, [
        row(
          {
            class: 'section-row nested',
            'data-section-kind': n.section.kind,
            'data-section-label': n.section.label,
            'data-tokens': String(n.count),
            title: `${n.section.kind} inside "${unit.label}": ${formatCount(n.count)} tokens for ${model}`,
          },
          n.section.kind,
          n.section.label,
          `${formatCount(n.count)}`,
          null,
          n.first >= 0 ? () => events.focus(n.first) : null,
        ),
      ]),
    );
    list.append(el('li', {}, [button, ...(nested.length ? [el('ol', { class: 'sections-nested' }, nested)] : [])]));
  });
  const legend = cost
    ? `tokens: ${model} · ${cost.targetName} (your target, as in the editor's CodeLens)`
    : `tokens for ${model}`;
  const children: HTMLElement[] = [
    el('h3', {}, [
      attribution
        ? `Sections: attention received · span needs (${JSON.stringify(attribution.span.text.slice(0, 30))})`
        : 'Sections: attention received',
    ]),
    ...(attribution && !attribution.passed ? [el('p', { class: 'muted span-verdict' }, [attribution.verdict])] : []),
    el('p', { class: 'muted sections-legend' }, [legend]),
    d ? list : el('p', { class: 'muted' }, ['No sections found.']),
  ];
  if (figures.matrix) {
    const m = figures.matrix;
    const max = figures.matrixMax;
    const grid = el('table', { class: 'section-matrix' });
    grid.append(
      el('tr', {}, [
        el('th', { class: 'corner' }, ['row reads column →']),
        ...units.map((unit, b) => el('th', { class: 'column-name', title: unit.label }, [layout.short[b]])),
      ]),
    );
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
      grid.append(el('tr', {}, [el('th', { class: 'row-name', title: unit.label }, [layout.short[a]]), ...cells]));
    });
    children.push(el('h3', {}, ['Which section reads which']), grid);
  }
  if (figures.profile) {
    const profile = figures.profile;
    const pmax = figures.profileMax;
    const last = profile.queries[1] - profile.queries[0] + 1;
    const bars = el('div', {
      class: 'position-profile',
      role: 'img',
      'aria-label': `Share of the attention of the last ${last} tokens by position decile of the text`,
    });
    profile.deciles.forEach((v, i) => {
      const column = el('span', {
        class: 'decile',
        title: `${i * 10}–${i * 10 + 10} % of the text: ${formatShare(v)} of the last ${last} tokens' attention`,
        'data-decile': i,
        'data-weight': v.toFixed(4),
      });
      column.style.height = `${Math.max(2, (v / pmax) * 48)}px`;
      bars.append(column);
    });
    children.push(
      el('h3', {}, [`Where the last ${last} tokens look, by position`]),
      el('div', { class: 'profile-plot' }, [
        el('div', { class: 'profile-y' }, [
          el('span', {}, [formatShare(pmax)]),
          el('span', { class: 'axis-name' }, ['share of attention']),
          el('span', {}, ['0 %']),
        ]),
        el('div', { class: 'profile-body' }, [
          bars,
          el('div', { class: 'profile-x' }, [
            el('span', {}, ['0 %']),
            el('span', {}, ['50 %']),
            el('span', {}, ['100 %']),
          ]),
          el('div', { class: 'axis-name' }, [
            `position in the text, in tenths (${formatShare(profile.sink)} went to the first token, left out)`,
          ]),
        ]),
      ]),
    );
  }
  return el('div', { class: 'sections' }, children);
}

/** The span's need of one section: the nats it loses without it, the words in the title, a mark on disagreement. */
function spanCell(entry: SpanAttribution['sections'][number] | undefined): HTMLElement {
  if (!entry) return el('span', { class: 'section-span muted' }, ['–']);
  const lost = -entry.logProbDelta;
  return el(
    'span',
    {
      class: `section-span${entry.disagreement ? ' disagree' : ''}`,
      'data-span-delta': entry.logProbDelta.toFixed(4),
      title: `${entry.words}${entry.disagreement ? ` (${entry.disagreement})` : ''}`,
    },
    [`${lost >= 0 ? '−' : '+'}${Math.abs(lost).toFixed(2)} nats${entry.disagreement ? ' ≠' : ''}`],
  );
}
