// The full breakdown as label/value rows: rendered as a Markdown table in the status-bar tooltip and as
// aligned text by the command line.
import type { CostFigures } from './costModel';
import { formatBytes, formatCount, formatParameters, formatPrice, formatShare, formatSi } from './format';
import type { TargetPreset } from './presets';
import { TOKENIZER_LABELS } from './tokenCounters';

export interface BreakdownRow {
  readonly label: string;
  readonly value: string;
}

const NOT_PUBLIC = 'unknown (architecture not public)';

export function costBreakdown(preset: TargetPreset, figures: CostFigures): BreakdownRow[] {
  const arch = preset.architecture;
  const rows: BreakdownRow[] = [
    { label: 'Target', value: `${preset.name} (${preset.id})` },
    { label: 'Tokenizer', value: TOKENIZER_LABELS[preset.tokenizer] },
    { label: 'Tokens', value: `${formatCount(figures.tokens)} (without BOS)` },
    { label: 'Context window', value: `${formatShare(figures.contextShare)} of ${formatCount(preset.contextWindow)} tokens` },
  ];
  if (!arch || figures.attentionScores === null || figures.attentionFlops === null || figures.linearFlops === null) {
    rows.push({ label: 'Attention scores', value: NOT_PUBLIC }, { label: 'Attention FLOPs', value: NOT_PUBLIC });
    rows.push({ label: 'Dense FLOPs', value: NOT_PUBLIC }, { label: 'KV cache', value: NOT_PUBLIC });
  } else {
    const window = arch.slidingWindow !== undefined ? `, window ${formatCount(arch.slidingWindow)}` : '';
    rows.push({
      label: 'Attention scores',
      value: `${formatSi(figures.attentionScores)} (n² × ${arch.attentionHeads} heads × ${arch.layers} layers${window}); causal ${formatSi(figures.attentionScoresCausal ?? 0)}`,
    });
    rows.push({ label: 'Attention FLOPs', value: `${formatSi(figures.attentionFlops, 'FLOP')} (QKᵀ + AV, 4·n²·d_head per head per layer)` });
    const crossover = figures.quadraticCrossoverTokens === null ? '' : `; attention overtakes at ${formatCount(figures.quadraticCrossoverTokens)} tokens`;
    rows.push({
      label: 'Dense FLOPs',
      value: `${formatSi(figures.linearFlops, 'FLOP')} (2 × ${formatParameters(arch.parameters)} params × n); attention is ${formatShare(figures.attentionFlopsShare ?? 0)} of the total${crossover}`,
    });
    rows.push({
      label: 'KV cache',
      value: `${formatBytes(figures.kvCacheBytes ?? 0)} (${figures.kvDtype}, ${formatBytes(figures.kvBytesPerToken ?? 0)} per token, ${arch.kvHeads} KV heads)`,
    });
  }
  rows.push({ label: 'Price (input)', value: figures.price === null ? 'n/a' : `${formatPrice(figures.price)} at $${preset.pricePerMillionInputTokens}/M tokens` });
  return rows;
}

/** Markdown table for a hover; `|` in values is escaped. */
export function breakdownMarkdown(rows: readonly BreakdownRow[]): string {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  return ['| | |', '|:--|:--|', ...rows.map((row) => `| **${escape(row.label)}** | ${escape(row.value)} |`)].join('\n');
}

/** Aligned "Label   value" lines for the terminal. */
export function breakdownText(rows: readonly BreakdownRow[]): string {
  const width = Math.max(...rows.map((row) => row.label.length)) + 2;
  return rows.map((row) => `${row.label.padEnd(width)}${row.value}`).join('\n');
}
