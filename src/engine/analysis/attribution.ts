// Which sections of a prompt the answer depends on. The answer's log-probability given the whole prompt is
// compared with its log-probability when a section's tokens are left out: exactly, one section at a time
// (leave-one-out) for up to LOO_LIMIT sections, else from random ablations and a sparse linear surrogate
// (surrogate.ts). Beside it, the attention-based share (mean attention from the positions that predict the
// answer to the section, over layers and heads), where the two disagree, and the sections that could be
// cut (savings), measured by one more run without all of them. No I/O: the model comes in as functions.
import { EngineError } from '../engineError';
import type { TokenInfo } from '../../shared/protocol';
import { adviceToleranceNats } from '../../shared/attributionWords';
import { AttributionCancelled, type ScoredSequence } from '../runtime/logitsSession';
import { attributionUnits, splitPromptSections, type PromptSection } from '../../shared/promptSections';
import { meanReceived, tokenUnits, type InspectSection } from './sectionStats';
import { ablationCount, fitSparseLinear, randomMasks, seededGenerator } from './surrogate';
import { answerTokens, spanMask, type AnswerSpan } from './answerSpan';
import type { Savings } from '../../shared/cliJson';

export const LOO_LIMIT = 16;
/**
 * The faithfulness check: no section is called cuttable unless the model uses the prompt for this answer,
 * i.e. the answer's log-probability with the whole prompt beats the one with an empty prompt by at least
 * FAITHFULNESS_NATS_PER_TOKEN per answer token (1 nat per 10 tokens) and never less than
 * FAITHFULNESS_MIN_NATS (1 nat, e ≈ 2.7× more likely). Below that, a section's ablation effect is noise
 * around a prompt the model ignores, and "could be cut" would be advice with nothing behind it.
 */
export const FAITHFULNESS_NATS_PER_TOKEN = 0.1;
export const FAITHFULNESS_MIN_NATS = 1;

export function requiredMarginNats(answerTokens: number): number {
  return Math.max(FAITHFULNESS_MIN_NATS, FAITHFULNESS_NATS_PER_TOKEN * answerTokens);
}
import { joinAnswer } from '../../shared/answerText';
export { ANSWER_SEPARATOR, joinAnswer, splitAnswer } from '../../shared/answerText';

export interface AttributionModel {
  tokenize(text: string): { readonly ids: number[]; readonly tokens: TokenInfo[] };
  decode(ids: readonly number[]): string;
  isSpecial(id: number): boolean;
  readonly maxPositions: number;
  /** reusePrefix: the sequences may start from the previous call's whole prompt (its keys and values). */
  answerLogProbs(
    sequences: readonly ScoredSequence[],
    onBatch?: (done: number) => void,
    isCancelled?: () => boolean,
    options?: { readonly reusePrefix?: boolean },
  ): Promise<Float64Array[]>;
  generate(
    ids: readonly number[],
    max: number,
    stop: (id: number) => boolean,
    limit: number,
    isCancelled?: () => boolean,
  ): Promise<number[]>;
  /**
   * Per layer, the attention received per key (mean over heads and queries); and over layers, heads and the
   * queries from..to, the mean attention row (length ids.length). reused: read from the scoring pass of
   * the same ids, with no forward pass of its own.
   */
  attention?(
    ids: readonly number[],
    from: number,
    to: number,
  ): Promise<{ readonly received: readonly Float32Array[]; readonly meanRow: Float64Array; readonly reused?: boolean }>;
}

export type AnswerSpec = { readonly text: string } | { readonly generate: number };

export interface AttributionProgress {
  readonly done: number;
  readonly total: number;
  readonly message: string;
}

export interface AttributeOptions {
  readonly onProgress?: (progress: AttributionProgress) => void;
  readonly isCancelled?: () => boolean;
  readonly seed?: number;
  /** Force random ablations at any section count (tests), or set their number. */
  readonly method?: 'leave-one-out' | 'random-ablation';
  readonly ablations?: number;
  /** Attribute only the answer's characters start..end (the tokens overlapping them are scored). */
  readonly span?: AnswerSpan;
}

/** A section as inspect reports it (attentionShare: over all queries), with what the answer owes it. */
export interface AttributedSection extends InspectSection {
  readonly kind: PromptSection['kind'];
  /** Log-probability of the answer without the section minus with it. */
  readonly ablation: { readonly logProbDelta: number };
  /** Mean attention from the answer-predicting positions to the section's tokens. */
  readonly attention: number;
  /** Why ablation and attention rank the section differently, or null when they agree. */
  readonly disagreement: string | null;
}

export type { Savings } from '../../shared/cliJson';

/** Whether the model uses the prompt for this answer (see FAITHFULNESS_NATS_PER_TOKEN). */
export interface Faithfulness {
  readonly logProbWithPrompt: number;
  /** With the prompt's text left out (only the tokenizer's own leading tokens, e.g. BOS, kept). */
  readonly logProbWithoutPrompt: number;
  /** logProbWithPrompt − logProbWithoutPrompt. */
  readonly marginNats: number;
  readonly requiredNats: number;
  readonly passed: boolean;
}

export interface AttributionResult {
  readonly prompt: string;
  /** logProb: of the span's tokens when a span was asked for. */
  readonly answer: { readonly text: string; readonly tokens: number; readonly logProb: number };
  readonly span?: AnswerSpan & { readonly text: string; readonly tokens: number };
  readonly promptTokens: number;
  readonly sections: AttributedSection[];
  readonly method: 'leave-one-out' | 'random-ablation';
  /** Forward passes with sections left out (leave-one-out: one per section). */
  readonly ablations: number;
  readonly faithfulness: Faithfulness;
  /** null when the faithfulness check did not pass: no section is called cuttable then. */
  readonly savings: Savings | null;
  readonly forwardPasses: number;
  readonly timings: { readonly totalMs: number };
}

function attentionFlopsShare(n: number, cut: number): number {
  const kept = n - cut;
  return n > 0 ? 1 - (kept * (kept + 1)) / (n * (n + 1)) : 0;
}

/** Rank of each value, 0 for the largest. */
function ranks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a]);
  const out = new Array<number>(values.length);
  order.forEach((i, r) => (out[i] = r));
  return out;
}

export async function attributeAnswer(
  model: AttributionModel,
  prompt: string,
  spec: AnswerSpec,
  options: AttributeOptions = {},
): Promise<AttributionResult> {
  const started = performance.now();
  const cancelled = options.isCancelled;
  if (prompt.trim() === '') throw new EngineError('Nothing to attribute: the prompt is empty.');
  const promptTokenized = model.tokenize(prompt);
  let promptIds: number[];
  let promptTokens: TokenInfo[];
  let answerIds: number[];
  let answerText: string;
  let answerSpans: { readonly start: number; readonly end: number }[];
  if ('text' in spec) {
    if (spec.text.trim() === '') throw new EngineError('The answer is empty.');
    const joined = joinAnswer(prompt, spec.text);
    const full = model.tokenize(joined.text);
    const first = full.tokens.findIndex((t) => !t.special && t.end > joined.boundary);
    if (first < 0) throw new EngineError('The answer is empty after tokenization.');
    promptIds = full.ids.slice(0, first);
    promptTokens = full.tokens.slice(0, first);
    answerIds = full.ids.slice(first).filter((_, i) => !full.tokens[first + i].special);
    answerText = joined.text.slice(joined.boundary);
    answerSpans = full.tokens
      .slice(first)
      .filter((t) => !t.special)
      .map((t) => ({ start: Math.max(0, t.start - joined.boundary), end: t.end - joined.boundary }));
  } else {
    if (!(spec.generate >= 1)) throw new EngineError('--generate needs at least 1 token.');
    promptIds = promptTokenized.ids;
    promptTokens = promptTokenized.tokens;
    if (promptIds.length >= model.maxPositions)
      throw new EngineError(
        `The prompt has ${promptIds.length} tokens, the model's whole context of ${model.maxPositions}; nothing can be generated.`,
      );
    options.onProgress?.({ done: 0, total: spec.generate, message: 'Generating the answer' });
    answerIds = await model.generate(
      promptIds,
      spec.generate,
      (id) => model.isSpecial(id),
      model.maxPositions,
      cancelled,
    );
    if (answerIds.length === 0) throw new EngineError('The model generated no answer (it ended the text at once).');
    answerText = model.decode(answerIds);
    answerSpans = answerTokens(answerIds, (ids) => model.decode(ids));
  }
  const mask = options.span ? spanMask(answerSpans, options.span, answerText.length) : null;
  // The answer's log-probability, or the span's: the tokens outside it condition but are not scored.
  const sum = (values: Float64Array): number => values.reduce((a, b, i) => (mask && !mask[i] ? a : a + b), 0);
  const n = promptIds.length + answerIds.length;
  if (n > model.maxPositions)
    throw new EngineError(
      `The prompt and the answer are ${n} tokens, more than the model's context of ${model.maxPositions}.`,
    );
  if (promptIds.length === 0) throw new EngineError('The prompt has no tokens before the answer.');

  const sections = splitPromptSections(prompt);
  const units = attributionUnits(sections);
  if (units.length === 0) throw new EngineError('The prompt has no sections to attribute.');
  const owner = tokenUnits(promptTokens, units);
  const unitTokens = units.map((_, u) => owner.reduce((c, o) => c + (o === u ? 1 : 0), 0));

  const sequence = (keep: (unit: number) => boolean): ScoredSequence => {
    const ids = promptIds.filter((_, i) => owner[i] < 0 || keep(owner[i]));
    // A model without a BOS token needs one position before the answer.
    if (ids.length === 0) ids.push(promptIds[0]);
    return { ids: [...ids, ...answerIds], answerStart: ids.length };
  };
  const method = options.method ?? (units.length > LOO_LIMIT ? 'random-ablation' : 'leave-one-out');
  const d = units.length;
  const m = method === 'leave-one-out' ? d : (options.ablations ?? ablationCount(d));
  const masks = method === 'leave-one-out' ? null : randomMasks(m, d, seededGenerator(options.seed ?? 1));
  const sequences: ScoredSequence[] = [sequence(() => true)];
  for (let a = 0; a < m; a++)
    sequences.push(masks ? sequence((u) => masks[a * d + u] === 1) : sequence((u) => u !== a));
  // The faithfulness check's empty prompt: the tokenizer's own leading tokens (BOS) only, or the first
  // token where it adds none (an answer needs one position before it).
  const leading = promptIds.filter((_, i) => promptTokens[i].special && owner[i] < 0);
  const bare = leading.length > 0 ? leading : [promptIds[0]];
  const emptyPrompt: ScoredSequence = { ids: [...bare, ...answerIds], answerStart: bare.length };
  const total = sequences.length + 3;
  options.onProgress?.({ done: 0, total, message: `Scoring the answer with ${m} ablations` });
  const scored = await model.answerLogProbs(
    [...sequences, emptyPrompt],
    // The whole prompt runs first, the empty prompt (the faithfulness check) last.
    (done) => options.onProgress?.({ done, total, message: `Ablation ${Math.min(m, Math.max(0, done - 1))} of ${m}` }),
    cancelled,
  );
  const scores = scored.slice(0, sequences.length);
  const logProb = sum(scores[0]);
  const logProbWithoutPrompt = sum(scored[sequences.length]);
  const scoredTokens = mask ? mask.reduce((c, v) => c + v, 0) : answerIds.length;
  const requiredNats = requiredMarginNats(scoredTokens);
  const faithfulness: Faithfulness = {
    logProbWithPrompt: logProb,
    logProbWithoutPrompt,
    marginNats: logProb - logProbWithoutPrompt,
    requiredNats,
    passed: logProb - logProbWithoutPrompt >= requiredNats,
  };
  let deltas: number[];
  if (masks) {
    const fit = fitSparseLinear(masks, Float64Array.from(scores.slice(1), sum), d);
    deltas = Array.from(fit.weights, (w) => -w);
  } else {
    deltas = scores.slice(1).map((s) => sum(s) - logProb);
  }
  let forwardPasses = sequences.length + 1;

  let attention = new Array<number>(d).fill(0);
  let attentionShare = new Array<number>(d).fill(0);
  if (model.attention) {
    if (cancelled?.()) throw new AttributionCancelled();
    const ids = [...promptIds, ...answerIds];
    // The positions that predict the scored tokens (all the answer's, or the span's).
    const first = mask ? mask.indexOf(1) : 0;
    const last = mask ? mask.lastIndexOf(1) : answerIds.length - 1;
    const { received, meanRow, reused } = await model.attention(
      ids,
      promptIds.length - 1 + first,
      promptIds.length - 1 + last,
    );
    if (!reused) forwardPasses++;
    const mean = meanReceived(received, n);
    const byUnit = (values: ArrayLike<number>): number[] => {
      const out = new Array<number>(d).fill(0);
      for (let k = 0; k < promptIds.length; k++) if (owner[k] >= 0) out[owner[k]] += values[k];
      return out;
    };
    attentionShare = byUnit(mean);
    attention = byUnit(meanRow);
  }
  options.onProgress?.({ done: sequences.length + 1, total, message: 'Measuring the savings' });

  // Savings: sections whose removal costs at most τ nats, checked together by one more run.
  const tolerance = adviceToleranceNats(logProb);
  // No cut advice at all when the model does not use the prompt for this answer.
  let cut = faithfulness.passed
    ? units.map((_, u) => u).filter((u) => deltas[u] >= -tolerance && unitTokens[u] > 0)
    : [];
  cut.sort((a, b) => deltas[b] - deltas[a]);
  let savingsDelta = 0;
  for (let attempt = 0; attempt < 3 && cut.length > 0; attempt++) {
    if (cut.length === 1) {
      savingsDelta = deltas[cut[0]];
      break;
    }
    const set = new Set(cut);
    // The tokens before the first cut section are the whole prompt's: their keys and values are reused.
    const [joint] = await model.answerLogProbs([sequence((u) => !set.has(u))], undefined, cancelled, {
      reusePrefix: true,
    });
    forwardPasses++;
    savingsDelta = sum(joint) - logProb;
    if (savingsDelta >= -2 * tolerance) break;
    cut = cut.slice(0, Math.ceil(cut.length / 2));
  }
  if (cut.length > 0 && savingsDelta < -2 * tolerance) {
    cut = [];
    savingsDelta = 0;
  }
  const savedTokens = cut.reduce((c, u) => c + unitTokens[u], 0);

  const effect = deltas.map((v) => Math.max(0, -v));
  const effectRank = ranks(effect);
  const attentionRank = ranks(attention);
  const gap = Math.max(2, Math.ceil(d / 2));
  const result: AttributedSection[] = units.map((unit, u) => {
    let disagreement: string | null = null;
    // Ranks among effects within the tolerance are noise: only a real effect can outrank attention, and only
    // a section without one can be "attended, but barely needed" (so no label contradicts "could be cut").
    const matters = effect[u] > tolerance;
    if (model.attention && matters && attentionRank[u] - effectRank[u] >= gap)
      disagreement = 'the answer depends on it more than its attention suggests';
    else if (model.attention && !matters && effectRank[u] - attentionRank[u] >= gap)
      disagreement = 'attended, but the answer barely depends on it';
    return {
      index: unit.index,
      kind: unit.kind,
      label: unit.label,
      start: unit.start,
      end: unit.end,
      tokens: unitTokens[u],
      attentionShare: attentionShare[u],
      ablation: { logProbDelta: deltas[u] },
      attention: attention[u],
      disagreement,
    };
  });
  options.onProgress?.({ done: total, total, message: 'Done' });
  return {
    prompt,
    answer: { text: answerText, tokens: answerIds.length, logProb },
    ...(options.span
      ? {
          span: {
            ...options.span,
            text: answerText.slice(options.span.start, options.span.end),
            tokens: scoredTokens,
          },
        }
      : {}),
    promptTokens: promptIds.length,
    sections: result,
    method,
    ablations: m,
    faithfulness,
    savings: faithfulness.passed
      ? {
          sections: cut.map((u) => units[u].index).sort((a, b) => a - b),
          tokens: savedTokens,
          attentionFlopsShare: attentionFlopsShare(n, savedTokens),
          logProbDelta: savingsDelta,
        }
      : null,
    forwardPasses,
    timings: { totalMs: performance.now() - started },
  };
}
