// The words of an attribution, the same in the CLI's text and HTML and in the editor's CodeLens and hovers:
// a change in the answer's log-probability said as how much more or less likely the answer becomes (in nats,
// and as a factor), the faithfulness check's verdict, the model that produced the result (with the proxy's
// caveat), and the savings line. No `vscode` import.
import type { ExplainModel } from './explainReport';
import { formatCount } from './format';

/** The unit, once per result. */
export const NATS_NOTE = 'nats are natural-log units of probability: 1 nat = e ≈ 2.7× more or less likely';

/**
 * How far a section's removal may lower the answer's log-probability and still count as "not needed"
 * (and how far it must raise it to count as working against the answer): 0.1 nat, or 2 % of the answer's
 * log-probability when that is larger. The engine's savings and the words use the same figure.
 */
export function adviceToleranceNats(answerLogProb: number): number {
  return Math.max(0.1, 0.02 * Math.abs(answerLogProb));
}

/** Below this a change in log-probability is too small to name. */
const NEGLIGIBLE_NATS = 0.005;

/** e^|nats| in words: "2.7×", "24×", "9,900×", "≈ 10^13×". */
export function likelihoodFactor(nats: number): string {
  const factor = Math.exp(Math.abs(nats));
  if (factor < 10) return `${factor.toFixed(1)}×`;
  if (factor < 1e6) return `${formatCount(Math.round(factor))}×`;
  return `≈ 10^${Math.floor(Math.abs(nats) / Math.LN10)}×`;
}

/** `delta`: log-probability without the section minus with it. */
export function withoutItWords(delta: number): string {
  if (Math.abs(delta) < NEGLIGIBLE_NATS) return 'the answer is as likely without it';
  const way = delta < 0 ? 'less' : 'more';
  return `the answer becomes ${Math.abs(delta).toFixed(2)} nats (${likelihoodFactor(delta)}) ${way} likely without it`;
}

/** A positive delta is never advice by itself: the section works against this answer. */
export function againstAnswerNote(delta: number, tolerance: number): string | null {
  return delta > tolerance
    ? 'it works against this answer (the model prefers the answer without it): check it before cutting'
    : null;
}

export function modelWords(model: Pick<ExplainModel, 'id' | 'embedded'>): string {
  return model.embedded
    ? `Model ${model.id}, the embedded proxy: a small stand-in model, so its advice does not carry over to a production model`
    : `Model ${model.id}`;
}

export interface FaithfulnessWords {
  readonly logProbWithPrompt: number;
  readonly logProbWithoutPrompt: number;
  readonly marginNats: number;
  readonly requiredNats?: number;
  readonly passed: boolean;
}

export function faithfulnessWords(f: FaithfulnessWords): string {
  const measured = `log-probability ${f.logProbWithPrompt.toFixed(2)} with the whole prompt, ${f.logProbWithoutPrompt.toFixed(2)} with an empty prompt`;
  const need = f.requiredNats !== undefined ? `, needs ${f.requiredNats.toFixed(2)}` : '';
  return f.passed
    ? `The model uses the prompt for this answer: ${measured} (the prompt makes it ${f.marginNats.toFixed(2)} nats, ${likelihoodFactor(f.marginNats)}, more likely${need}).`
    : `This model does not use the prompt for this answer: ${measured} (margin ${f.marginNats.toFixed(2)} nats${need}). No section is called cuttable.`;
}

export interface SavingsWords {
  readonly sections: readonly number[];
  readonly tokens: number;
  readonly attentionFlopsShare: number;
  readonly logProbDelta: number;
}

export function savingsWords(savings: SavingsWords | null): string {
  if (savings === null) return 'Savings: none suggested (the model does not use the prompt for this answer).';
  if (savings.sections.length === 0) return 'Savings: every section matters to this answer.';
  const which = savings.sections.length === 1 ? 'this section' : `these ${savings.sections.length} sections`;
  return `Savings: ${which} (${savings.sections.map((i) => `#${i}`).join(', ')}) could be cut: −${savings.tokens} tokens (−${Math.round(savings.attentionFlopsShare * 100)} % attention FLOPs); measured together, ${withoutItWords(savings.logProbDelta).replace('without it', 'without them')}.`;
}

/** The note on one section: cut advice (only where the check passed), a positive effect's caveat, a disagreement. */
export function sectionNote(
  section: { readonly ablation: { readonly logProbDelta: number }; readonly disagreement: string | null },
  cut: boolean,
  tolerance: number,
): string {
  const against = againstAnswerNote(section.ablation.logProbDelta, tolerance);
  const parts = [
    ...(cut ? [against ? 'could be cut, but' : 'could be cut'] : []),
    ...(against ? [against] : []),
    ...(section.disagreement ? [section.disagreement] : []),
  ];
  return parts.join(' · ').replace('could be cut, but · ', 'could be cut, but ');
}
