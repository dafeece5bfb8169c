// The full breakdown as label/value rows: rendered as a Markdown table in the status-bar tooltip and as
// aligned text by the command line.
import { layerSplit, type CostFigures } from './costModel';
import { formatBytes, formatCount, formatParameters, formatPrice, formatShare, formatSi } from '../shared/format';
import type { TargetPreset } from './presets';
import { TOKENIZER_LABELS } from './tokenCounters';

export interface BreakdownRow {
  readonly label: string;
  readonly value: string;
}

const NOT_PUBLIC = 'unknown (architecture not public)';

/** "≈" in front of a count that comes from the closest public tokenizer, not the model's own. */
export function approx(preset: TargetPreset): string {
  return preset.exact ? '' : '≈';
}

/** The tokenizer line: its name, and "estimate" where it is not the model's own. */
export function tokenizerLabel(preset: TargetPreset): string {
  return preset.exact
    ? TOKENIZER_LABELS[preset.tokenizer]
    : `≈ estimate with ${TOKENIZER_LABELS[preset.tokenizer]} (the model's tokenizer is not public)`;
}

/** `exactCount`: the provider's own count for this text, when the user asked for one and it came back. */
export function costBreakdown(preset: TargetPreset, figures: CostFigures, exactCount = false): BreakdownRow[] {
  const arch = preset.architecture;
  const mark = exactCount ? '' : approx(preset);
  const tokensNote = exactCount
    ? "exact, from the provider's token-count endpoint"
    : preset.exact
      ? 'without BOS'
      : 'estimate';
  const rows: BreakdownRow[] = [
    { label: 'Target', value: `${preset.name} (${preset.id})` },
    {
      label: 'Tokenizer',
      value: exactCount ? `${preset.countApi?.provider ?? 'provider'} token-count endpoint` : tokenizerLabel(preset),
    },
    { label: 'Tokens', value: `${mark}${formatCount(figures.promptTokens)} (${tokensNote})` },
  ];
  if (!exactCount && preset.chatFraming) {
    rows.push({
      label: 'Chat framing',
      value: `+${formatCount(figures.chatOverheadTokens)} tokens (one user message in the chat format; ${mark}${formatCount(figures.tokens)} in all)`,
    });
  }
  rows.push({
    label: 'Context window',
    value: `${formatShare(figures.contextShare)} of ${formatCount(preset.contextWindow)} tokens`,
  });
  if (!arch || figures.attentionScores === null || figures.attentionFlops === null || figures.linearFlops === null) {
    rows.push({ label: 'Attention scores', value: NOT_PUBLIC }, { label: 'Attention FLOPs', value: NOT_PUBLIC });
    rows.push({ label: 'Dense FLOPs', value: NOT_PUBLIC }, { label: 'KV cache', value: NOT_PUBLIC });
  } else {
    const { windowed, global } = layerSplit(arch);
    const window =
      arch.slidingWindow === undefined
        ? ''
        : global === 0
          ? `, window ${formatCount(arch.slidingWindow)}`
          : `; ${windowed} layers with a ${formatCount(arch.slidingWindow)}-token window, ${global} global`;
    rows.push({
      label: 'Attention scores',
      value: `${formatSi(figures.attentionScores)} (n² × ${arch.attentionHeads} heads × ${arch.layers} layers${window}); causal ${formatSi(figures.attentionScoresCausal ?? 0)}`,
    });
    const perHead = arch.mla ? `2·n²·(${arch.headDim} + ${arch.mla.valueHeadDim})` : '4·n²·d_head';
    rows.push({
      label: 'Attention FLOPs',
      value: `${formatSi(figures.attentionFlops, 'FLOP')} (QKᵀ + AV, ${perHead} per head per layer)`,
    });
    const crossover =
      figures.quadraticCrossoverTokens === null
        ? ''
        : `; attention overtakes at ${formatCount(figures.quadraticCrossoverTokens)} tokens`;
    const params =
      arch.activeParameters === undefined
        ? `${formatParameters(arch.parameters)} params`
        : `${formatParameters(arch.activeParameters)} active of ${formatParameters(arch.parameters)} params`;
    rows.push({
      label: 'Dense FLOPs',
      value: `${formatSi(figures.linearFlops, 'FLOP')} (2 × ${params} × n); attention is ${formatShare(figures.attentionFlopsShare ?? 0)} of the total${crossover}`,
    });
    const layout = arch.mla
      ? `latent ${arch.mla.kvLoraRank} + rotary key ${arch.mla.qkRopeHeadDim} per layer (MLA)`
      : `${arch.kvHeads} KV heads`;
    rows.push({
      label: 'KV cache',
      value: `${formatBytes(figures.kvCacheBytes ?? 0)} (${figures.kvDtype}, ${formatBytes(figures.kvBytesPerToken ?? 0)} per token, ${layout})`,
    });
  }
  rows.push({ label: 'Price (input)', value: priceText(preset, figures) });
  return rows;
}

function priceText(preset: TargetPreset, figures: CostFigures): string {
  const tier = figures.priceTier;
  if (figures.price === null || tier === null) return 'n/a';
  const mark = approx(preset);
  const rate = `$${tier.pricePerMillionInputTokens}/M tokens`;
  if (!tier.tiered) return `${mark}${formatPrice(figures.price)} at ${rate}`;
  const which =
    tier.aboveTokens === null
      ? `tier for prompts up to ${formatCount(preset.priceTiers[0].aboveTokens)} tokens`
      : `tier for prompts above ${formatCount(tier.aboveTokens)} tokens`;
  return `${mark}${formatPrice(figures.price)} at ${rate} (${which})`;
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
