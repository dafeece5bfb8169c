// What the editor shows after an attribution run, as plain data: a CodeLens title per section (its effect
// on the answer and the attention it gets from the answer) and the savings hint (a faint range and its
// hover) for the sections the answer does not depend on. Offsets are in the document. No `vscode` import.
import type { Savings } from '../shared/cliJson';

export interface AttributionJsonLike {
  readonly answer: { readonly text: string; readonly tokens: number; readonly logProb: number };
  readonly sections: readonly {
    readonly index: number;
    readonly label: string;
    readonly start: number;
    readonly end: number;
    readonly tokens: number;
    readonly ablation: { readonly logProbDelta: number };
    readonly attention: number;
    readonly disagreement: string | null;
  }[];
  readonly method: string;
  readonly ablations?: number;
  readonly savings: Savings;
}

export interface SectionLens {
  readonly offset: number;
  readonly title: string;
}

export interface SavingsHint {
  readonly start: number;
  readonly end: number;
  readonly hover: string;
}

export interface AttributionHints {
  readonly lenses: SectionLens[];
  readonly savings: SavingsHint[];
  readonly summary: string;
}

function signed(value: number): string {
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)}`;
}

/** `offset`: where the attributed prompt starts in the document. */
export function attributionHints(result: AttributionJsonLike, offset: number): AttributionHints {
  const ranked = [...result.sections].sort((a, b) => a.ablation.logProbDelta - b.ablation.logProbDelta);
  const rank = new Map(ranked.map((s, i) => [s.index, i + 1]));
  const cut = new Set(result.savings.sections);
  const lenses = result.sections.map((s) => ({
    offset: offset + s.start,
    title: `answer ${signed(s.ablation.logProbDelta)} nats without it (#${rank.get(s.index)} of ${result.sections.length}) · ${(s.attention * 100).toFixed(1)}% of the answer's attention${cut.has(s.index) ? ' · could be cut' : ''}${s.disagreement ? ` · ${s.disagreement}` : ''}`,
  }));
  const s = result.savings;
  const relative = result.answer.logProb !== 0 ? (s.logProbDelta / Math.abs(result.answer.logProb)) * 100 : 0;
  const hover = `The answer hardly depends on ${s.sections.length === 1 ? 'this section' : `these ${s.sections.length} sections`}: cutting ${s.sections.length === 1 ? 'it' : 'them'} saves ${s.tokens} tokens (${Math.round(s.attentionFlopsShare * 100)} % of the attention FLOPs); the answer's log-probability changes by ${relative >= 0 ? '+' : '−'}${Math.abs(relative).toFixed(1)} %. A hint, not an edit.`;
  const savings = result.sections
    .filter((x) => cut.has(x.index))
    .map((x) => ({ start: offset + x.start, end: offset + x.end, hover }));
  const method = result.method === 'leave-one-out' ? 'leave-one-out' : `${result.ablations ?? 0} random ablations`;
  const summary = `Attributed ${JSON.stringify(result.answer.text.length > 40 ? `${result.answer.text.slice(0, 39)}…` : result.answer.text)} (${method}): ${ranked[0] ? `"${ranked[0].label}" drives it most` : 'no sections'}${s.sections.length ? `; ${s.sections.length} section(s) could be cut (−${s.tokens} tokens)` : ''}.`;
  return { lenses, savings, summary };
}
