// What the editor shows, computed from plain inputs: the diagnostics (with their ranges as text offsets),
// the per-section CodeLens items and the status-bar item. The vscode providers only convert these.
import { approx, breakdownMarkdown, costBreakdown } from './costBreakdown';
import { attentionCostShare, causalWorkShare, computeCost, tokensWithinKvBudget, type CostFigures } from './costModel';
import type { CostOptions } from './costSettings';
import { formatBytes, formatCount, formatShare, formatWindow } from '../shared/format';
import { countSections, offsetOfToken, type CountSnapshot } from './incrementalCounter';
import type { TargetPreset } from './presets';
import type { TokenCounter } from './tokenCounters';
import type { CoverSection } from '../shared/promptSections';

export type CostDiagnosticCode = 'context-warning' | 'context-error' | 'kv-budget';

export interface CostDiagnostic {
  readonly severity: 'warning' | 'error';
  readonly code: CostDiagnosticCode;
  /** [start, end) in UTF-16 offsets of the document text. */
  readonly start: number;
  readonly end: number;
  readonly message: string;
}

function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  const end = newline === -1 ? text.length : newline;
  return Math.max(end, Math.min(offset + 1, text.length));
}

/**
 * - context-warning: from the token where the share reaches the warning threshold to the end of its line;
 * - context-error: from the first token above the error threshold to the end of the text (what does not fit);
 * - kv-budget: from the first token whose KV cache exceeds the budget to the end of its line.
 */
export function computeCostDiagnostics(
  snapshot: CountSnapshot,
  counter: TokenCounter,
  preset: TargetPreset,
  options: CostOptions,
  chatOverhead = 0,
): CostDiagnostic[] {
  const diagnostics: CostDiagnostic[] = [];
  const { text } = snapshot;
  // Token numbers count the chat framing first: it takes its share of the window before the prompt does.
  const total = snapshot.total + chatOverhead;
  const window = preset.contextWindow;
  const windowLabel = `${preset.name}'s ${formatWindow(window)}-token context window`;
  const errorToken = Math.floor(options.errorShare * window) + 1;
  const warningToken = Math.max(1, Math.ceil(options.warningShare * window));
  const at = (token: number) => (token - chatOverhead < 1 ? 0 : offsetOfToken(snapshot, counter, token - chatOverhead));
  if (total >= errorToken) {
    const start = at(errorToken);
    if (start !== null) {
      const over = total > window ? `${formatCount(total - window)} tokens over` : `${formatShare(total / window)} of`;
      diagnostics.push({
        severity: 'error',
        code: 'context-error',
        start,
        end: text.length,
        message: `Token ${formatCount(errorToken)} passes ${formatShare(options.errorShare)} of ${windowLabel}; from here on the prompt does not fit (${formatCount(total)} tokens, ${over} the window).`,
      });
    }
  } else if (total >= warningToken) {
    const start = at(warningToken);
    if (start !== null) {
      diagnostics.push({
        severity: 'warning',
        code: 'context-warning',
        start,
        end: lineEnd(text, start),
        message: `Token ${formatCount(warningToken)} reaches ${formatShare(options.warningShare)} of ${windowLabel} (${formatCount(total)} tokens in all, ${formatShare(total / window)}).`,
      });
    }
  }
  const fit = options.kvBudgetBytes > 0 ? tokensWithinKvBudget(preset, options.kvBudgetBytes, options.kvDtype) : null;
  if (fit !== null && total > fit) {
    const start = at(fit + 1);
    const figures = computeCost(preset, snapshot.total, options.kvDtype, chatOverhead);
    if (start !== null && figures.kvCacheBytes !== null) {
      diagnostics.push({
        severity: 'warning',
        code: 'kv-budget',
        start,
        end: lineEnd(text, start),
        message: `The KV cache passes the ${formatBytes(options.kvBudgetBytes)} budget at token ${formatCount(fit + 1)} (${figures.kvDtype}; ${formatBytes(figures.kvCacheBytes)} for the whole prompt on ${preset.name}).`,
      });
    }
  }
  return diagnostics;
}

export interface SectionLens {
  /** Offset of the heading or the block's first line. */
  readonly anchor: number;
  readonly tokens: number;
  /** The section's share of the causal n² attention work; the shares of all sections add up to 1. */
  readonly attentionShare: number;
  /** "54 tokens · 12 % of attention": two facts, the rest in the tooltip. */
  readonly title: string;
  readonly tooltip: string;
}

/**
 * Whole percents that add up to 100 (largest remainder), so the lenses of a prompt read as parts of one whole;
 * a non-zero share that rounds to 0 reads "<1 %".
 */
export function percentLabels(shares: readonly number[]): string[] {
  const total = shares.reduce((sum, share) => sum + share, 0);
  if (total <= 0) return shares.map(() => '0 %');
  const exact = shares.map((share) => (share / total) * 100);
  const whole = exact.map(Math.floor);
  let left = 100 - whole.reduce((sum, value) => sum + value, 0);
  const order = exact.map((value, i) => ({ i, rest: value - whole[i] })).sort((a, b) => b.rest - a.rest);
  for (const { i } of order) {
    if (left <= 0) break;
    whole[i]++;
    left--;
  }
  return whole.map((value, i) => (value === 0 && shares[i] > 0 ? '<1 %' : `${value} %`));
}

/**
 * One lens per section with tokens. Its share is of the causal attention work: its queries times the keys each
 * one sees, over the whole prompt's, so the sections' shares add up to 100 %. The tooltip adds what removing the
 * section saves (a different figure: the later sections' queries see fewer keys too), labelled as such.
 */
export function computeSectionLenses(snapshot: CountSnapshot, sections: readonly CoverSection[]): SectionLens[] {
  const counts = countSections(snapshot, sections);
  const total = snapshot.total;
  const shares: number[] = [];
  let before = 0;
  for (const tokens of counts) {
    shares.push(causalWorkShare(before, tokens, total));
    before += tokens;
  }
  const labels = percentLabels(shares);
  const lenses: SectionLens[] = [];
  sections.forEach((section, index) => {
    const tokens = counts[index];
    if (tokens === 0) return;
    const share = shares[index];
    const plural = tokens === 1 ? '' : 's';
    lenses.push({
      anchor: section.anchor,
      tokens,
      attentionShare: share,
      title: `${formatCount(tokens)} token${plural} · ${labels[index]} of attention`,
      tooltip: [
        `"${section.title}": ${formatCount(tokens)} token${plural}, ${formatShare(tokens / Math.max(1, total))} of the prompt's.`,
        `${formatShare(share)} of the attention work: its queries × the keys each one sees (causal), over the prompt's n² total; the sections' shares add up to 100 %.`,
        `Removing it saves ${formatShare(attentionCostShare(tokens, total))} of the n² work.`,
      ].join('\n\n'),
    });
  });
  return lenses;
}

export type StatusLevel = 'ok' | 'warning' | 'error';

export interface StatusModel {
  readonly text: string;
  /** Markdown. */
  readonly tooltip: string;
  readonly level: StatusLevel;
}

export interface ExactCountState {
  /** The provider's count replaced the estimate. */
  readonly exact?: boolean;
  /** One line about the last exact-count request (e.g. why it failed). */
  readonly note?: string;
}

/** The command that asks the provider for an exact count (linked from the tooltip of estimate targets). */
export const COUNT_EXACT_COMMAND = 'promptAttention.countExact';

export function statusForCount(
  preset: TargetPreset,
  figures: CostFigures,
  options: CostOptions,
  warnings: readonly string[],
  exactCount: ExactCountState = {},
): StatusModel {
  const level: StatusLevel =
    figures.contextShare > options.errorShare
      ? 'error'
      : figures.contextShare >= options.warningShare
        ? 'warning'
        : 'ok';
  const icon = level === 'ok' ? '$(pulse)' : level === 'warning' ? '$(warning)' : '$(error)';
  const notes = [...(exactCount.note ? [exactCount.note] : []), ...warnings]
    .map((warning) => `- ${warning}`)
    .join('\n');
  const mark = exactCount.exact ? '' : approx(preset);
  const api = preset.countApi;
  const exactLink =
    api && !exactCount.exact
      ? ` [Count exactly with the ${api.provider === 'anthropic' ? 'Anthropic' : 'Gemini'} API](command:${COUNT_EXACT_COMMAND}).`
      : '';
  return {
    text: `${icon} ${mark}${formatCount(figures.tokens)} tok${exactCount.exact ? ' (exact)' : ''} · ${formatShare(figures.contextShare)} of ${preset.name}`,
    tooltip: `${breakdownMarkdown(costBreakdown(preset, figures, exactCount.exact === true))}\n\n${notes}${notes ? '\n\n' : ''}Click to pick the target model.${exactLink}`,
    level,
  };
}

export function statusForTooLarge(bytes: number, limitBytes: number): StatusModel {
  return {
    text: `$(circle-slash) ${formatBytes(bytes)}: too large to count`,
    tooltip: `This file is ${formatBytes(bytes)}, over the ${formatBytes(limitBytes)} limit of \`promptAttention.cost.maxFileSizeKB\`; tokens are not counted.`,
    level: 'ok',
  };
}

export function statusForLoading(tokenizerLabel: string): StatusModel {
  return {
    text: '$(sync~spin) counting…',
    tooltip: `Loading the ${tokenizerLabel} tokenizer (once per session).`,
    level: 'ok',
  };
}

export function statusForFailure(message: string): StatusModel {
  return { text: '$(error) tokens: n/a', tooltip: `Could not count tokens: ${message}`, level: 'error' };
}
