// Proxy honesty: which model and file (dtype) produced the attention, what ran it (and why it fell back), and,
// for the embedded model only, that it is a small stand-in for the production model.
import type { InspectionHeader, InspectionSummary, SourceInfo } from '../../src/shared/protocol';
import { formatCount, formatParameters } from '../../src/shared/format';
import { el } from './dom';

export function renderHeader(
  header: InspectionHeader,
  source: SourceInfo | undefined,
  summary: InspectionSummary | undefined,
): HTMLElement {
  const m = header.model;
  const card = m.card;
  const name = card?.name ?? m.id;
  const facts = [
    card ? `${formatParameters(card.parameters)} parameters` : null,
    `${m.layers} layers × ${m.heads} heads${m.kvHeads && m.kvHeads !== m.heads ? ` (${m.kvHeads} KV)` : ''}`,
    m.file ? `${m.file} (${m.dtype ?? 'unknown'})` : null,
    `${formatCount(header.tokens.length)} tokens`,
  ].filter((f): f is string => f !== null);
  const provider = el(
    'span',
    {
      class: `chip provider${m.fallbackReason ? ' fallback' : ''}`,
      title: m.fallbackReason ? `Fell back to ${m.provider}: ${m.fallbackReason}` : `Ran on ${m.provider}`,
    },
    [m.provider.toUpperCase()],
  );
  const lines: HTMLElement[] = [
    el('div', { class: 'model-line' }, [
      el('span', { class: 'model-name' }, [name]),
      el('span', { class: 'model-facts' }, [facts.join(' · ')]),
      provider,
      summary
        ? el(
            'span',
            {
              class: 'timing',
              title: `tokenize ${summary.timings.tokenizeMs.toFixed(0)} ms, run ${summary.timings.runMs.toFixed(0)} ms, statistics ${summary.timings.statsMs.toFixed(0)} ms`,
            },
            [`${summary.timings.totalMs.toFixed(0)} ms`],
          )
        : el('span'),
    ]),
  ];
  // The proxy note is for the embedded stand-in model only (results from before `embedded` existed: no file either).
  if (m.embedded ?? m.file === undefined) {
    lines.push(
      el('div', { class: 'proxy-note' }, [
        el('span', { class: 'proxy-icon' }, ['PROXY']),
        `${card?.proxyNote ?? 'Attention from a small local proxy model, not your production model.'}${card?.trainedOn ? ` Trained on ${card.trainedOn}.` : ''}`,
      ]),
    );
  }
  if (m.fileReason) lines.push(el('div', { class: 'note' }, [m.fileReason]));
  if (m.fallbackReason)
    lines.push(
      el('div', { class: 'fallback-note' }, [
        `${m.provider.toUpperCase()} ran instead of the requested provider: ${m.fallbackReason}`,
      ]),
    );
  for (const note of summary?.notes ?? []) lines.push(el('div', { class: 'note' }, [note]));
  const from = el('div', { class: 'source', title: source?.uri ?? source?.label ?? '' }, [source?.label ?? '']);
  return el('header', { class: 'panel-header' }, [from, ...lines]);
}
