// `prompt-attention attribute <prompt|-> (--answer <file> | --generate N)`: which sections of the prompt
// the answer depends on (leave-one-out or random ablations), the attention-based share beside it, and the
// sections that could be cut. JSON, a terminal table, or an HTML page.
import { EngineError, explainModel, runAttribution, splitAnswer, toAttributeJson } from '../engine/inspectApi';
import type { AttributionResult } from '../engine/inspectApi';
import {
  adviceToleranceNats,
  faithfulnessWords,
  modelWords,
  NATS_NOTE,
  savingsWords,
  sectionNote,
  withoutItWords,
} from '../shared/attributionWords';
import type { ExplainModel } from '../shared/explainReport';
import type { ExplainArgs, ExplainIo } from './explainIo';
import {
  explainFailure,
  ExplainUsageError,
  htmlPage,
  loadExplainModel,
  parseExplainArgs,
  readText,
  writeOutput,
} from './explainIo';

export const ATTRIBUTE_USAGE =
  'usage: prompt-attention attribute <prompt|-> (--answer <file> | --generate N) [--span START:END] [--model <folder|hub id>] [--dtype <dtype>] ' +
  '[--provider auto|cpu|…] [--format json|html|text] [--out <file>] [--cache-dir <dir>]';

const HELP = `${ATTRIBUTE_USAGE}

Which sections of the prompt the answer depends on: the change in the answer's log-probability when each
section is left out (exact leave-one-out up to 16 sections, random ablations with a sparse linear surrogate
beyond), beside the attention from the answer to each section, and the sections the answer does not need.
  --answer      the answer, from a file (it continues the prompt; a space joins them at a word seam)
  --generate    let the model answer greedily, at most N tokens
  --span        attribute only the answer's characters START:END (a sentence, a number): the tokens that
                overlap them are scored, the answer before them still conditions (ContextCite-style)
                (without either, a line ---answer--- in the prompt separates the prompt from its answer)
  --format      json, html or text (default: text on a terminal, json when piped)
Exit codes: 0 ok, 1 bad input or model error, 2 usage error.`;

const OPTIONS = [
  '--answer',
  '--generate',
  '--span',
  '--model',
  '--dtype',
  '--provider',
  '--format',
  '--out',
  '--cache-dir',
];

const percent = (v: number): string => `${(v * 100).toFixed(1)}%`;

export function toAttributeText(model: ExplainModel, r: AttributionResult): string {
  const tolerance = adviceToleranceNats(r.answer.logProb);
  const cut = new Set(r.savings?.sections ?? []);
  const lines = [
    `${modelWords(model)}.`,
    `Answer ${JSON.stringify(r.answer.text)} (${r.answer.tokens} tokens), log-probability ${r.answer.logProb.toFixed(2)} given the whole prompt (${r.promptTokens} tokens).`,
    ...(r.span
      ? [
          `Attributed: the answer's characters ${r.span.start}:${r.span.end}, ${JSON.stringify(r.span.text)} (${r.span.tokens} tokens).`,
        ]
      : []),
    faithfulnessWords(r.faithfulness),
    r.method === 'leave-one-out'
      ? `Method: leave-one-out, ${r.ablations} ablations (exact)`
      : `Method: random ablations with a sparse linear surrogate, ${r.ablations} ablations`,
    `Δ log-prob: the answer's log-probability without the section minus with it (${NATS_NOTE}).`,
    '',
    '  #  kind        tokens   Δ log-prob  attention  section',
  ];
  const order = [...r.sections].sort((a, b) => a.ablation.logProbDelta - b.ablation.logProbDelta);
  for (const s of order) {
    const note = sectionNote(s, cut.has(s.index), tolerance);
    lines.push(
      `${String(s.index).padStart(3)}  ${s.kind.padEnd(10)} ${String(s.tokens).padStart(7)}  ${s.ablation.logProbDelta.toFixed(2).padStart(11)}  ${percent(s.attention).padStart(9)}  ${s.label}  (${withoutItWords(s.ablation.logProbDelta)}${note ? `; ${note}` : ''})`,
    );
  }
  lines.push('', savingsWords(r.savings));
  return `${lines.join('\n')}\n`;
}

export function toAttributeHtml(model: ExplainModel, r: AttributionResult): string {
  const tolerance = adviceToleranceNats(r.answer.logProb);
  const worst = Math.max(1e-9, ...r.sections.map((s) => -s.ablation.logProbDelta));
  const saved = new Set(r.savings?.sections ?? []);
  return htmlPage(
    'Which sections drive the answer',
    [
      `${modelWords(model)}.`,
      `Answer: ${r.answer.text} (${r.answer.tokens} tokens, log-probability ${r.answer.logProb.toFixed(2)}).`,
      faithfulnessWords(r.faithfulness),
      `Method: ${r.method}, ${r.ablations} ablations. Δ log-prob: without the section minus with it (${NATS_NOTE}).`,
      savingsWords(r.savings),
    ],
    ['#', 'kind', 'section', 'tokens', 'Δ log-prob', 'without it', 'attention', 'note'],
    r.sections.map((s) => ({
      cells: [
        String(s.index),
        s.kind,
        s.label,
        String(s.tokens),
        s.ablation.logProbDelta.toFixed(2),
        withoutItWords(s.ablation.logProbDelta),
        percent(s.attention),
        sectionNote(s, saved.has(s.index), tolerance),
      ],
      bar: Math.max(0, -s.ablation.logProbDelta) / worst,
      faint: saved.has(s.index),
    })),
  );
}

async function promptAndAnswer(
  args: ExplainArgs,
  io: ExplainIo,
): Promise<{ prompt: string; spec: { text: string } | { generate: number } }> {
  if (args.positional.length !== 1)
    throw new ExplainUsageError(
      args.positional.length === 0
        ? 'Missing the prompt file (or - for standard input).'
        : `Expected one prompt file, got ${args.positional.length}.`,
    );
  if (args.answer !== null && args.generate !== null)
    throw new ExplainUsageError('Give --answer or --generate, not both.');
  const text = await readText(args.positional[0], io);
  if (args.answer !== null)
    return { prompt: text, spec: { text: await readText(args.answer, io, args.positional[0] === '-') } };
  if (args.generate !== null) return { prompt: text, spec: { generate: args.generate } };
  const split = splitAnswer(text);
  if (!split)
    throw new ExplainUsageError(
      'Give --answer <file> or --generate N (or put the answer after a line ---answer--- in the prompt).',
    );
  return { prompt: split.prompt, spec: { text: split.answer } };
}

export async function runAttributeCommand(argv: readonly string[], io: ExplainIo = process): Promise<number> {
  try {
    const args = parseExplainArgs(argv, OPTIONS);
    if (args === 'help') {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    const format = args.format ?? (io.stdout.isTTY ? 'text' : 'json');
    const { prompt, spec } = await promptAndAnswer(args, io);
    if ('text' in spec && spec.text.trim() === '') throw new EngineError('The answer is empty.');
    const explain = await loadExplainModel(args);
    try {
      const result = await runAttribution(
        {
          loaded: explain.loaded,
          model: explain.model,
          onEvent: (e) => {
            if (io.stderr.isTTY && e.kind === 'step') io.stderr.write(`\r${e.message} (${e.done}/${e.total})\x1b[K`);
          },
        },
        { prompt, answer: spec, ...(args.span ? { span: args.span } : {}) },
      );
      if (io.stderr.isTTY) io.stderr.write('\r\x1b[K');
      const model = explainModel(explain.loaded);
      const output =
        format === 'json'
          ? `${JSON.stringify(toAttributeJson(model, result))}\n`
          : format === 'html'
            ? toAttributeHtml(model, result)
            : toAttributeText(model, result);
      await writeOutput(io, args.out ?? (format === 'html' ? 'attribution.html' : null), output);
    } finally {
      await explain.release();
    }
    return 0;
  } catch (error) {
    return explainFailure(io, 'attribute', ATTRIBUTE_USAGE, error);
  }
}
