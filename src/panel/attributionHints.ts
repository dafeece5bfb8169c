// What the editor shows after an attribution run, as plain data: a CodeLens title per section (its effect
// on the answer and the attention it gets from the answer) and the savings hint (a faint range and its
// hover) for the sections the answer does not depend on. Offsets are in the document. No `vscode` import.

import {
  adviceToleranceNats,
  againstAnswerNote,
  faithfulnessWords,
  modelWords,
  NATS_NOTE,
  sectionNote,
  withoutItWords,
} from '../shared/attributionWords';
import type { AttributeJson, AttributedSectionJson } from '../shared/explainReport';

/** The part of an attribution report the hints read (derived from the report's type, never a copy of it). */
export type AttributionHintInput = Pick<
  AttributeJson,
  'model' | 'answer' | 'method' | 'ablations' | 'faithfulness' | 'savings'
> & {
  readonly sections: readonly Pick<
    AttributedSectionJson,
    'index' | 'label' | 'start' | 'end' | 'tokens' | 'ablation' | 'attention' | 'disagreement'
  >[];
};

/** A CodeLens: a short title (two facts at most, so it fits a half-width editor) and the details on hover. */
export interface SectionLens {
  readonly offset: number;
  readonly title: string;
  readonly tooltip?: string;
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

/** The title's note: cut advice, never without the comment when the answer is more likely without the section. */
function titleNote(delta: number, cut: boolean, tolerance: number): string {
  const against = againstAnswerNote(delta, tolerance) !== null;
  if (cut) return against ? ' · could be cut, but it works against this answer' : ' · could be cut';
  return against ? ' · works against this answer' : '';
}

/** `offset`: where the attributed prompt starts in the document. */
export function attributionHints(result: AttributionHintInput, offset: number): AttributionHints {
  const ranked = [...result.sections].sort((a, b) => a.ablation.logProbDelta - b.ablation.logProbDelta);
  const rank = new Map(ranked.map((s, i) => [s.index, i + 1]));
  const tolerance = adviceToleranceNats(result.answer.logProb);
  const s = result.savings;
  const cut = new Set(s?.sections ?? []);
  const lenses = result.sections.map((x) => {
    const note = sectionNote(x, cut.has(x.index), tolerance);
    // A short title (the effect and the rank) and the details on hover.
    return {
      offset: offset + x.start,
      title: `${withoutItWords(x.ablation.logProbDelta)} (#${rank.get(x.index)} of ${result.sections.length})${titleNote(x.ablation.logProbDelta, cut.has(x.index), tolerance)}`,
      tooltip: [
        `"${x.label}" (${x.tokens} tokens): ${withoutItWords(x.ablation.logProbDelta)} (${NATS_NOTE}); rank ${rank.get(x.index)} of ${result.sections.length}.`,
        `It gets ${(x.attention * 100).toFixed(1)}% of the answer's attention.`,
        ...(note ? [`${note}.`] : []),
        `${modelWords(result.model)}.`,
      ].join(' '),
    };
  });
  const savings =
    s && s.sections.length > 0
      ? result.sections
          .filter((x) => cut.has(x.index))
          .map((x) => ({
            start: offset + x.start,
            end: offset + x.end,
            hover: `The answer hardly depends on ${s.sections.length === 1 ? 'this section' : `these ${s.sections.length} sections`}: cutting ${s.sections.length === 1 ? 'it' : 'them'} saves ${s.tokens} tokens (${Math.round(s.attentionFlopsShare * 100)} % of the attention FLOPs); measured together, ${withoutItWords(s.logProbDelta).replace('without it', 'without them')} (${NATS_NOTE}). ${modelWords(result.model)}. A hint, not an edit.`,
          }))
      : [];
  const method = result.method === 'leave-one-out' ? 'leave-one-out' : `${result.ablations ?? 0} random ablations`;
  const answer = JSON.stringify(
    result.answer.text.length > 40 ? `${result.answer.text.slice(0, 39)}…` : result.answer.text,
  );
  const verdict = result.faithfulness.passed
    ? `${ranked[0] ? `"${ranked[0].label}" drives it most` : 'no sections'}${s && s.sections.length ? `; ${s.sections.length} section(s) could be cut (−${s.tokens} tokens)` : ''}.`
    : faithfulnessWords(result.faithfulness);
  const summary = `Attributed ${answer} (${method}, ${modelWords(result.model)}): ${verdict}`;
  return { lenses, savings, summary };
}
