// The `inspect` command's JSON document and terminal summary.
import { inspectSections, splitPromptSections, type InspectSection } from '../engine/inspectApi';
import type { InspectionResult, NextToken, TokenInfo, TokenRole } from '../shared/protocol';
import type { ModelJson } from '../shared/cliJson';
import type { GeneratedAnswerJson } from '../shared/explainReport';

/** A token in the JSON: chat tokens carry their role; a token that is not in the inspected text (a template
 * token, the setting's user message) has null start and end. */
export interface InspectJsonToken {
  readonly id: number;
  readonly text: string;
  readonly start: number | null;
  readonly end: number | null;
  readonly role?: TokenRole;
}

function jsonToken(input: string): (t: TokenInfo) => InspectJsonToken {
  return (t) => {
    if (!t.role) return { id: t.id, text: t.text, start: t.start, end: t.end };
    const inText = t.role !== 'template' && input.slice(t.start, t.end) === t.text;
    return { id: t.id, text: t.text, start: inText ? t.start : null, end: inText ? t.end : null, role: t.role };
  };
}

export interface InspectJson {
  readonly model: ModelJson & {
    readonly file?: string;
    readonly dtype?: string;
    readonly fileReason?: string;
    readonly format?: string;
    readonly quant?: string;
    readonly architecture?: string;
  };
  readonly tokens: readonly InspectJsonToken[];
  /** The 10 most likely next tokens at the last position. */
  readonly next?: readonly NextToken[];
  readonly heads: readonly {
    readonly layer: number;
    readonly head: number;
    readonly role: string;
    readonly scores: Readonly<Record<string, number>>;
  }[];
  readonly drivers: readonly { readonly index: number; readonly text: string; readonly received: number }[];
  readonly sections: readonly InspectSection[];
  readonly attention?: number[][][][];
  /** With --weighting value-norm: what `attention` holds (α·‖v W_O‖ rows, each summing to 1). */
  readonly weighting?: 'value-norm';
  /** With --generate: what the model wrote, tokens with offsets into `text`. */
  readonly answer?: GeneratedAnswerJson;
}

const round = (value: number, digits = 6): number => Number(value.toFixed(digits));

/** Dense attention for --dense: [layer][head][query][key], rounded to 6 decimals. */
export function denseAttention(layers: readonly Float32Array[], heads: number, n: number): number[][][][] {
  return layers.map((data) =>
    Array.from({ length: heads }, (_, h) =>
      Array.from({ length: n }, (_, q) =>
        Array.from(data.subarray(h * n * n + q * n, h * n * n + (q + 1) * n), (v) => (v === 0 ? 0 : round(v))),
      ),
    ),
  );
}

/**
 * Dense attention over the prompt and the answer: the prompt's rows (padded with zeros over the answer's
 * keys, which they cannot see), then one row per answer token, [layer][head][query][key].
 */
export function denseWithAnswer(
  layers: readonly Float32Array[],
  heads: number,
  promptTokens: number,
  answerRows: readonly (readonly Float32Array[])[],
): number[][][][] {
  const n = promptTokens + answerRows.length;
  const padded = (values: Float32Array): number[] => {
    const row = new Array<number>(n).fill(0);
    for (let k = 0; k < values.length; k++) row[k] = values[k] === 0 ? 0 : round(values[k]);
    return row;
  };
  const P = promptTokens;
  return layers.map((data, l) =>
    Array.from({ length: heads }, (_, h) => [
      ...Array.from({ length: P }, (_, q) => padded(data.subarray(h * P * P + q * P, h * P * P + (q + 1) * P))),
      ...answerRows.map((rows, i) => padded(rows[l].subarray(h * (P + i + 1), (h + 1) * (P + i + 1)))),
    ]),
  );
}

export function toInspectJson(
  result: InspectionResult,
  attention?: number[][][][],
  answer?: InspectJson['answer'],
  weighting?: InspectJson['weighting'],
): InspectJson {
  const { model, tokens, summary } = result;
  return {
    model: {
      id: model.id,
      layers: model.layers,
      heads: model.heads,
      maxTokens: model.maxTokens,
      provider: model.provider,
      ...(model.fallbackReason ? { fallbackReason: model.fallbackReason } : {}),
      ...(model.file ? { file: model.file, dtype: model.dtype } : {}),
      ...(model.fileReason ? { fileReason: model.fileReason } : {}),
      ...(model.format ? { format: model.format } : {}),
      ...(model.quant ? { quant: model.quant } : {}),
      ...(model.architecture ? { architecture: model.architecture } : {}),
    },
    tokens: tokens.map(jsonToken(result.text)),
    ...(summary.next ? { next: summary.next.map((t) => ({ id: t.id, text: t.text, p: round(t.p) })) } : {}),
    heads: summary.heads.map((h) => ({
      layer: h.layer,
      head: h.head,
      role: h.role,
      scores: Object.fromEntries(Object.entries(h.scores).map(([k, v]) => [k, round(v as number, 4)])),
    })),
    drivers: summary.drivers.map((d) => ({ index: d.index, text: d.text, received: round(d.received) })),
    sections: inspectSections(
      splitPromptSections(result.text),
      tokens,
      result.layers.map((l) => l.received),
    ).map((s) => ({ ...s, attentionShare: round(s.attentionShare) })),
    ...(attention ? { attention } : {}),
    ...(answer ? { answer } : {}),
    ...(weighting ? { weighting } : {}),
  };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 24 ? `${text.slice(0, 23)}…` : text);
}

/** A short summary for a terminal. */
export function toInspectText(result: InspectionResult): string {
  const { model, tokens, summary } = result;
  const lines: string[] = [];
  lines.push(
    `Model ${model.id}: ${model.layers} layers × ${model.heads} heads (${model.kvHeads} KV), context ${model.maxTokens}, ran on ${model.provider}`,
  );
  if (model.file) lines.push(`  File ${model.file} (${model.dtype})${model.fileReason ? `: ${model.fileReason}` : ''}`);
  if (model.fallbackReason) lines.push(`  ${model.fallbackReason}`);
  lines.push(`Tokens: ${tokens.length}`);
  for (const note of summary.notes) lines.push(`  ${note}`);
  lines.push('', 'Most attended tokens (mean attention received over layers):');
  summary.drivers
    .slice(0, 8)
    .forEach((d, i) => lines.push(`  ${i + 1}. ${quote(d.text)} #${d.index}  ${(d.received * 100).toFixed(2)}%`));
  lines.push('', 'Head roles (strongest score):');
  for (let layer = 0; layer < model.layers; layer++) {
    const heads = summary.heads.filter((h) => h.layer === layer);
    const parts = heads.map((h) => {
      const key = h.role === 'previous-token' ? 'previousToken' : h.role;
      const score = h.scores[key as keyof typeof h.scores];
      return `H${h.head} ${h.role} ${score.toFixed(2)}`;
    });
    lines.push(`  L${layer}: ${parts.join(', ')}`);
  }
  if (summary.longRangePairs.length) {
    lines.push('', 'Long-range links (query → key, last layers):');
    for (const p of summary.longRangePairs.slice(0, 5)) {
      lines.push(
        `  ${quote(tokens[p.query].text)} #${p.query} → ${quote(tokens[p.key].text)} #${p.key}  distance ${p.distance}, weight ${p.weight.toFixed(3)}`,
      );
    }
  }
  const t = summary.timings;
  lines.push(
    '',
    `Time: ${t.totalMs.toFixed(0)} ms (tokenize ${t.tokenizeMs.toFixed(0)}, run ${t.runMs.toFixed(0)}, statistics ${t.statsMs.toFixed(0)})`,
  );
  return `${lines.join('\n')}\n`;
}
