// Answer attribution against one raw forward pass: a 512-token prompt of 8 sections (seven filler
// paragraphs from the corpus, one holding the answer's code, the question last) and its answer, attributed
// end to end by the engine (leave-one-out, attention beside it, savings), timed against session.run of the
// untouched graph on the same 512 tokens, interleaved per round. explain.ratioToRaw512x8 is their ratio.
import * as path from 'node:path';
import { attributeAnswer, attributionModel, LogitsSession } from '../src/engine/inspectApi';
import { createSession, ElemType, LoadedModel } from '../src/engine/benchInternals';
import { feedsFor } from './engineBench';
import { promptText } from './corpus';
import { median, round, yieldToEventLoop } from './stats';

/** The budget for explain.ratioToRaw512x8 (attribution of 8 sections at 512 tokens / one raw pass). */
export const EXPLAIN_BUDGET = 3;

export interface ExplainBenchOptions {
  readonly root: string;
  readonly modelFolder: string;
  readonly cacheDir: string;
  /** Tokens of prompt + answer (512 in the full suite). */
  readonly tokens: number;
  readonly sections: number;
  readonly runs: number;
  readonly log: (line: string) => void;
}

export interface ExplainBenchResult {
  readonly tokens: number;
  readonly sections: number;
  readonly rawMs: number;
  readonly attributionMs: number;
  /** attributionMs / rawMs: explain.ratioToRaw512x8 in the full suite (budget ≤ EXPLAIN_BUDGET). */
  readonly ratioToRaw512x8: number;
  readonly forwardPasses: number;
  readonly sourceRankedFirst: boolean;
  readonly sourceLogProbDelta: number;
  readonly nextLargestLogProbDelta: number;
  readonly runs: number;
}

const SOURCE = 'The access code for the archive room is XK-4471. Staff must not share it with visitors.';
const QUESTION =
  'Question: what is the access code for the archive room?\nAnswer: The access code for the archive room is';
const ANSWER = 'XK-4471';

/** Seven filler paragraphs, the source third, the question last, trimmed so prompt + answer has `tokens` tokens. */
function buildPrompt(count: (text: string) => number, root: string, tokens: number, sections: number): string {
  const words = promptText(root, tokens * 10)
    .replace(/\s+/g, ' ')
    .split(' ')
    .filter((w) => /^[A-Za-z,.;'-]+$/.test(w));
  const fillers = sections - 2;
  const assemble = (perParagraph: number): string => {
    const paragraphs: string[] = [];
    for (let p = 0; p < fillers; p++)
      paragraphs.push(`${words.slice(p * perParagraph, (p + 1) * perParagraph).join(' ')}.`);
    paragraphs.splice(2, 0, SOURCE);
    return `${[...paragraphs, QUESTION].join('\n\n')}`;
  };
  let per = 10;
  while (count(`${assemble(per + 1)} ${ANSWER}`) <= tokens) per++;
  let text = assemble(per);
  // Top up the first paragraph word by word to the exact length.
  let extra = 0;
  const first = (k: number): string =>
    text.replace(
      /^[^\n]*/,
      (line) => `${line.slice(0, -1)} ${words.slice(fillers * per, fillers * per + k).join(' ')}.`,
    );
  while (count(`${first(extra + 1)} ${ANSWER}`) <= tokens) extra++;
  if (extra > 0) text = first(extra);
  // One-token words close the last gap a longer word could not.
  for (let pad = 0; pad < 8 && count(`${text} ${ANSWER}`) < tokens; pad++) {
    const padded = text.replace(/^[^\n]*/, (line) => `${line.slice(0, -1)} and.`);
    if (count(`${padded} ${ANSWER}`) > tokens) break;
    text = padded;
  }
  return text;
}

export async function runExplainBench(options: ExplainBenchOptions): Promise<ExplainBenchResult> {
  const loaded = await LoadedModel.load(options.modelFolder, {
    id: path.basename(options.modelFolder),
    cacheDir: options.cacheDir,
    provider: 'cpu',
  });
  const logits = await LogitsSession.open(options.modelFolder, loaded.config, { provider: 'cpu' });
  const raw = await createSession(path.join(options.modelFolder, 'onnx', 'model.onnx'), 'cpu');
  const runtime = await import('onnxruntime-node');
  try {
    const count = (text: string): number => loaded.tokenizer.tokenize(text).ids.length;
    const prompt = buildPrompt(count, options.root, options.tokens, options.sections);
    const ids = loaded.tokenizer.tokenize(`${prompt} ${ANSWER}`).ids;
    const inputs = raw.session.inputNames.map((name) => ({ name, elemType: ElemType.INT64, shape: null }));
    const feeds = feedsFor(runtime, inputs, ids);
    const model = attributionModel(loaded, logits);
    const rawTimes: number[] = [];
    const attributionTimes: number[] = [];
    let last = await attributeAnswer(model, prompt, { text: ANSWER }); // warm-up
    await raw.session.run(feeds);
    if (last.sections.length !== options.sections)
      throw new Error(`the benchmark prompt has ${last.sections.length} sections, not ${options.sections}`);
    for (let r = 0; r < options.runs; r++) {
      await yieldToEventLoop();
      let t = performance.now();
      await raw.session.run(feeds);
      rawTimes.push(performance.now() - t);
      await yieldToEventLoop();
      t = performance.now();
      last = await attributeAnswer(model, prompt, { text: ANSWER });
      attributionTimes.push(performance.now() - t);
    }
    const ranked = [...last.sections].sort((a, b) => a.ablation.logProbDelta - b.ablation.logProbDelta);
    const rawMs = median(rawTimes);
    const attributionMs = median(attributionTimes);
    const result: ExplainBenchResult = {
      tokens: ids.length,
      sections: last.sections.length,
      rawMs: round(rawMs),
      attributionMs: round(attributionMs),
      ratioToRaw512x8: round(attributionMs / rawMs),
      forwardPasses: last.forwardPasses,
      sourceRankedFirst: ranked[0]?.label.startsWith(SOURCE.slice(0, 20)) ?? false,
      sourceLogProbDelta: round(ranked[0]?.ablation.logProbDelta ?? 0),
      nextLargestLogProbDelta: round(ranked[1]?.ablation.logProbDelta ?? 0),
      runs: options.runs,
    };
    options.log(
      `explain: ${result.tokens} tokens, ${result.sections} sections: attribution ${result.attributionMs} ms over raw ${result.rawMs} ms = ${result.ratioToRaw512x8}× (${result.forwardPasses} passes; source first: ${result.sourceRankedFirst}, Δ ${result.sourceLogProbDelta} vs next ${result.nextLargestLogProbDelta})`,
    );
    return result;
  } finally {
    await raw.session.release().catch(() => undefined);
    await logits.dispose();
    await loaded.dispose();
  }
}

export function renderExplainMarkdown(e: ExplainBenchResult): string {
  return [
    '',
    `## Answer attribution (${e.tokens} tokens, ${e.sections} sections, leave-one-out, medians of ${e.runs})`,
    '',
    `| Raw \`session.run\` | Attribution | explain.ratioToRaw512x8 (≤ ${EXPLAIN_BUDGET}) | Forward passes | Source ranked first | Δ log-prob source / next |`,
    '|---|---|---|---|---|---|',
    `| ${e.rawMs} ms | ${e.attributionMs} ms | ${e.ratioToRaw512x8}× (${e.ratioToRaw512x8 <= EXPLAIN_BUDGET ? 'met' : 'NOT met'}) | ${e.forwardPasses} | ${e.sourceRankedFirst ? 'yes' : 'no'} | ${e.sourceLogProbDelta} / ${e.nextLargestLogProbDelta} |`,
    '',
  ].join('\n');
}
