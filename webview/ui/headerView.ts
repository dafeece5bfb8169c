// Proxy honesty: which model and file (dtype) produced the attention, what ran it, how many tokens it saw next
// to your target's count (two tokenizers, both named), whether the text was cut (with the numbers and a way to
// inspect around the cursor), and, for the embedded model only, a one-line note that it is a small stand-in.
// A CPU fallback under `auto` is normal and stays on the provider badge's tooltip; it is a warning only when a
// GPU provider was asked for by name.
import {
  fallbackIsWarning,
  type CostSummary,
  type InspectionHeader,
  type InspectionSummary,
  type PanelCommand,
  type SourceInfo,
} from '../../src/shared/protocol';
import { formatCount, formatParameters } from '../../src/shared/format';
import { el } from './dom';

export interface HeaderActions {
  command(command: PanelCommand): void;
}

/** "Inspected the first 2048 of 41191 tokens…": the note of a cut inspection. */
const CUT_NOTE = /^Inspected (?:the first |the last |the )(\d+) of (\d+) tokens/;

function actionButton(label: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLElement {
  const b = el('button', { class: 'link-button', type: 'button', ...attrs }, [label]);
  b.addEventListener('click', onClick);
  return b;
}

/** "869 tokens for pa-mini-llama · 625 for Llama 3.1 8B (your target)", each count with its tokenizer. */
function countsLine(header: InspectionHeader, name: string, cost: CostSummary | undefined): HTMLElement {
  const own = header.tokens.filter((t) => !t.special).length;
  const parts = [`${formatCount(own)} tokens for ${name}`];
  if (cost)
    parts.push(`${cost.exact === false ? '≈' : ''}${formatCount(cost.tokens)} for ${cost.targetName} (your target)`);
  const title = [
    `Each model cuts text into its own tokens. ${name}'s tokenizer made ${formatCount(own)} of the inspected text (special tokens left out).`,
    cost
      ? `${cost.targetName}'s${cost.tokenizer ? ` (${cost.tokenizer})` : ''} makes ${formatCount(cost.tokens)}: the count of the status bar and the section CodeLens.`
      : '',
  ]
    .filter(Boolean)
    .join(' ');
  return el(
    'div',
    {
      class: 'counts-line',
      title,
      'data-model-tokens': own,
      ...(cost ? { 'data-target-tokens': cost.tokens } : {}),
    },
    [parts.join(' · ')],
  );
}

function proxyNote(fullText: string, actions: HeaderActions | null): HTMLElement {
  const more = el('div', { class: 'proxy-more', hidden: true }, [fullText]);
  const toggle = actionButton('more', () => {
    more.hidden = !more.hidden;
    toggle.textContent = more.hidden ? 'more' : 'less';
    toggle.setAttribute('aria-expanded', String(!more.hidden));
  });
  toggle.setAttribute('aria-expanded', 'false');
  return el('div', { class: 'proxy-block' }, [
    el('div', { class: 'proxy-note' }, [
      el('span', { class: 'proxy-icon', title: fullText }, ['PROXY']),
      el('span', { class: 'proxy-short' }, ['A small local stand-in, not your production model.']),
      ...(actions
        ? [actionButton('Choose a model…', () => actions.command('choose-model'), { id: 'choose-model' })]
        : []),
      toggle,
    ]),
    more,
  ]);
}

export function renderHeader(
  header: InspectionHeader,
  source: SourceInfo | undefined,
  summary: InspectionSummary | undefined,
  cost?: CostSummary,
  actions: HeaderActions | null = null,
): HTMLElement {
  const m = header.model;
  const card = m.card;
  const name = card?.name ?? m.id;
  const facts = [
    card ? `${formatParameters(card.parameters)} parameters` : null,
    `${m.layers} layers × ${m.heads} heads${m.kvHeads && m.kvHeads !== m.heads ? ` (${m.kvHeads} KV)` : ''}`,
    m.file ? `${m.file} (${m.dtype ?? 'unknown'})` : null,
  ].filter((f): f is string => f !== null);
  const warn = fallbackIsWarning(m);
  const provider = el(
    'span',
    {
      class: `chip provider${warn ? ' fallback' : ''}`,
      title: m.fallbackReason
        ? `Ran on ${m.provider}${m.requestedProvider ? ` (asked for ${m.requestedProvider})` : ''}: ${m.fallbackReason}`
        : `Ran on ${m.provider}`,
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
    countsLine(header, name, cost),
  ];
  // The proxy note is for the embedded stand-in model only (results from before `embedded` existed: no file either).
  if (m.embedded ?? m.file === undefined) {
    const full = `${card?.proxyNote ?? 'Attention from a small local proxy model, not your production model.'}${card?.trainedOn ? ` Trained on ${card.trainedOn}.` : ''}`;
    lines.push(proxyNote(full, actions));
  }
  if (m.fileReason) lines.push(el('div', { class: 'note' }, [m.fileReason]));
  if (warn && m.fallbackReason)
    lines.push(
      el('div', { class: 'fallback-note' }, [
        `${m.provider.toUpperCase()} ran instead of the requested provider (${m.requestedProvider}): ${m.fallbackReason}`,
      ]),
    );
  for (const note of summary?.notes ?? []) {
    const cut = CUT_NOTE.exec(note);
    if (!cut) {
      lines.push(el('div', { class: 'note' }, [note]));
      continue;
    }
    lines.push(
      el('div', { class: 'note cut-note', 'data-inspected': cut[1], 'data-total': cut[2] }, [
        el('strong', {}, ['Cut: ']),
        note,
        ...(actions
          ? [
              ' ',
              actionButton('Inspect around the cursor', () => actions.command('inspect-around'), {
                id: 'inspect-around',
              }),
            ]
          : []),
      ]),
    );
  }
  const from = el('div', { class: 'source', title: source?.uri ?? source?.label ?? '' }, [source?.label ?? '']);
  return el('header', { class: 'panel-header' }, [from, ...lines]);
}
