// Attribute Answer and Diff Sections on a loaded model, as reports (shared/explainReport.ts): what the CLI
// prints and what the engine worker replies to the extension host, built in one place. The caller brings
// the loaded (tapped) model and its attribution binding; progress comes back as numbered steps.
import type {
  AttributeJson,
  AttributeParams,
  DiffJson,
  DiffParams,
  ExplainEvent,
  ExplainModel,
} from '../shared/explainReport';
import { EngineError } from './engineError';
import { modelSummary } from './inspection';
import type { LoadedModel } from './runtime/loadedModel';
import { validateText } from './runtime/inputValidation';
import { attributeAnswer, type AttributionModel, type AttributionResult } from './analysis/attribution';
import { attributionUnits, splitPromptSections } from '../shared/promptSections';
import { meanReceived, sectionAttention } from './analysis/sectionStats';
import { attentionFlops, diffSections, type DiffInputSection } from './analysis/sectionDiff';

export interface ExplainContext {
  readonly loaded: LoadedModel;
  readonly model: AttributionModel;
  readonly onEvent?: (event: ExplainEvent) => void;
  readonly isCancelled?: () => boolean;
}

export function fixed(value: number, digits = 6): number {
  return Number(value.toFixed(digits));
}

export function explainModel(loaded: LoadedModel): ExplainModel {
  const m = modelSummary(loaded);
  return {
    id: m.id,
    layers: m.layers,
    heads: m.heads,
    maxTokens: m.maxTokens,
    provider: m.provider,
    ...(m.fallbackReason ? { fallbackReason: m.fallbackReason } : {}),
    ...(m.embedded ? { embedded: true } : {}),
  };
}

export function toAttributeJson(model: ExplainModel, r: AttributionResult): AttributeJson {
  return {
    model,
    answer: { text: r.answer.text, tokens: r.answer.tokens, logProb: fixed(r.answer.logProb) },
    ...(r.span ? { span: { start: r.span.start, end: r.span.end, text: r.span.text } } : {}),
    sections: r.sections.map((s) => ({
      index: s.index,
      kind: s.kind,
      label: s.label,
      start: s.start,
      end: s.end,
      tokens: s.tokens,
      attentionShare: fixed(s.attentionShare),
      ablation: { logProbDelta: fixed(s.ablation.logProbDelta) },
      attention: fixed(s.attention),
      disagreement: s.disagreement,
    })),
    method: r.method,
    ...(r.method === 'random-ablation' ? { ablations: r.ablations } : {}),
    faithfulness: {
      logProbWithPrompt: fixed(r.faithfulness.logProbWithPrompt),
      logProbWithoutPrompt: fixed(r.faithfulness.logProbWithoutPrompt),
      marginNats: fixed(r.faithfulness.marginNats),
      requiredNats: fixed(r.faithfulness.requiredNats),
      passed: r.faithfulness.passed,
    },
    savings: r.savings
      ? {
          ...r.savings,
          attentionFlopsShare: fixed(r.savings.attentionFlopsShare),
          logProbDelta: fixed(r.savings.logProbDelta),
        }
      : null,
  };
}

/** The attribution itself (the CLI's text and HTML read it), with progress as numbered steps. */
export function runAttribution(
  context: ExplainContext,
  params: Pick<AttributeParams, 'prompt' | 'answer' | 'span'>,
): Promise<AttributionResult> {
  return attributeAnswer(context.model, params.prompt, params.answer, {
    ...(params.span ? { span: params.span } : {}),
    onProgress: (p) => context.onEvent?.({ kind: 'step', done: p.done, total: p.total, message: p.message }),
    ...(context.isCancelled ? { isCancelled: context.isCancelled } : {}),
  });
}

export async function attributionReport(
  context: ExplainContext,
  params: Pick<AttributeParams, 'prompt' | 'answer' | 'span'>,
): Promise<AttributeJson> {
  return toAttributeJson(explainModel(context.loaded), await runAttribution(context, params));
}

interface Version {
  readonly tokens: number;
  readonly sections: DiffInputSection[];
}

async function measure(context: ExplainContext, text: string, answer: string | null): Promise<Version> {
  if (answer !== null) {
    const r = await runAttribution(context, { prompt: text, answer: { text: answer } });
    return {
      tokens: r.promptTokens,
      sections: r.sections.map((s) => ({
        index: s.index,
        label: s.label,
        text: text.slice(s.start, s.end),
        tokens: s.tokens,
        attentionShare: s.attentionShare,
        logProbDelta: s.ablation.logProbDelta,
      })),
    };
  }
  validateText(text, 0);
  const { loaded } = context;
  const { ids, tokens } = loaded.tokenizer.tokenize(text);
  const limit = loaded.config.maxPositions;
  if (ids.length > limit)
    throw new EngineError(`The prompt has ${ids.length} tokens, more than the model's context of ${limit}.`);
  const layers = await loaded.runAttention(ids, { probabilities: false });
  const received = meanReceived(
    layers.map((l) => l.received),
    ids.length,
  );
  const units = attributionUnits(splitPromptSections(text));
  const stats = sectionAttention(tokens, units, received);
  return {
    tokens: ids.length,
    sections: units.map((s, i) => ({
      index: s.index,
      label: s.label,
      text: text.slice(s.start, s.end),
      tokens: stats[i].tokens,
      attentionShare: stats[i].attentionShare,
    })),
  };
}

/** The two versions section by section; null when the texts are identical ("no difference"). */
export async function sectionDiffReport(
  context: ExplainContext,
  params: Pick<DiffParams, 'oldText' | 'newText' | 'answer'>,
): Promise<DiffJson | null> {
  if (params.oldText === params.newText) return null;
  if (params.answer !== null && params.answer.trim() === '') throw new EngineError('The answer is empty.');
  const step = (done: number, message: string): void => context.onEvent?.({ kind: 'step', done, total: 2, message });
  step(0, 'Measuring the HEAD version');
  const before = await measure(context, params.oldText, params.answer);
  step(1, 'Measuring the working copy');
  const after = await measure(context, params.newText, params.answer);
  step(2, 'Done');
  const config = context.loaded.config;
  const shape = { layers: config.layers, heads: config.heads, headDim: config.headDim };
  const sections = diffSections(before.sections, after.sections).map((s) => ({
    ...s,
    oldAttentionShare: fixed(s.oldAttentionShare),
    newAttentionShare: fixed(s.newAttentionShare),
    ...(s.oldLogProbDelta !== undefined && s.newLogProbDelta !== undefined
      ? { oldLogProbDelta: fixed(s.oldLogProbDelta), newLogProbDelta: fixed(s.newLogProbDelta) }
      : {}),
  }));
  return {
    model: explainModel(context.loaded),
    old: { tokens: before.tokens, attentionFlops: attentionFlops(shape, before.tokens) },
    new: { tokens: after.tokens, attentionFlops: attentionFlops(shape, after.tokens) },
    tokenDelta: after.tokens - before.tokens,
    sections,
  };
}
