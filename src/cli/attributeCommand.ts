// `prompt-attention attribute <prompt|-> (--answer <file> | --generate N)`: which sections of the prompt
// the answer depends on (leave-one-out or random ablations), the attention-based share beside it, and the
// sections that could be cut. JSON, a terminal table, or an HTML page.
import { attributeAnswer, EngineError, modelSummary, splitAnswer } from '../engine/inspectApi';
import type { AttributedSection, AttributionResult, LoadedModel } from '../engine/inspectApi';
import type { ModelJson, Savings } from '../shared/cliJson';
import type { ExplainArgs, ExplainIo } from './explainIo';
import {
  explainFailure,
  ExplainUsageError,
  fixed,
  htmlPage,
  loadExplainModel,
  parseExplainArgs,
  readText,
  writeOutput,
} from './explainIo';

export const ATTRIBUTE_USAGE =
  'usage: prompt-attention attribute <prompt|-> (--answer <file> | --generate N) [--model <folder|hub id>] [--dtype <dtype>] ' +
  '[--provider auto|cpu|…] [--format json|html|text] [--out <file>] [--cache-dir <dir>]';

const HELP = `${ATTRIBUTE_USAGE}

Which sections of the prompt the answer depends on: the change in the answer's log-probability when each
section is left out (exact leave-one-out up to 16 sections, random ablations with a sparse linear surrogate
beyond), beside the attention from the answer to each section, and the sections the answer does not need.
  --answer      the answer, from a file (it continues the prompt; a space joins them at a word seam)
  --generate    let the model answer greedily, at most N tokens
                (without either, a line ---answer--- in the prompt separates the prompt from its answer)
  --format      json, html or text (default: text on a terminal, json when piped)
Exit codes: 0 ok, 1 bad input or model error, 2 usage error.`;

const OPTIONS = ['--answer', '--generate', '--model', '--dtype', '--provider', '--format', '--out', '--cache-dir'];

export interface AttributeJson {
  readonly model: ModelJson;
  readonly answer: { readonly text: string; readonly tokens: number; readonly logProb: number };
  readonly sections: readonly AttributedSection[];
  readonly method: 'leave-one-out' | 'random-ablation';
  readonly ablations?: number;
  readonly savings: Savings;
}

export function modelJson(model: LoadedModel): AttributeJson['model'] {
  const m = modelSummary(model);
  return {
    id: m.id,
    layers: m.layers,
    heads: m.heads,
    maxTokens: m.maxTokens,
    provider: m.provider,
    ...(m.fallbackReason ? { fallbackReason: m.fallbackReason } : {}),
  };
}

export function toAttributeJson(model: AttributeJson['model'], r: AttributionResult): AttributeJson {
  return {
    model,
    answer: { text: r.answer.text, tokens: r.answer.tokens, logProb: fixed(r.answer.logProb) },
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
    savings: {
      ...r.savings,
      attentionFlopsShare: fixed(r.savings.attentionFlopsShare),
      logProbDelta: fixed(r.savings.logProbDelta),
    },
  };
}

const percent = (v: number): string => `${(v * 100).toFixed(1)}%`;

export function savingsLine(r: AttributionResult): string {
  const s = r.savings;
  if (s.sections.length === 0) return 'Savings: every section matters to this answer.';
  const relative = r.answer.logProb !== 0 ? (s.logProbDelta / Math.abs(r.answer.logProb)) * 100 : 0;
  const which = s.sections.length === 1 ? 'this section' : `these ${s.sections.length} sections`;
  return `Savings: ${which} (${s.sections.map((i) => `#${i}`).join(', ')}): −${s.tokens} tokens (−${Math.round(s.attentionFlopsShare * 100)} % attention FLOPs), answer log-probability ${relative >= 0 ? '+' : '−'}${Math.abs(relative).toFixed(1)} %`;
}

export function toAttributeText(modelId: string, r: AttributionResult): string {
  const lines = [
    `Model ${modelId}; answer ${JSON.stringify(r.answer.text)} (${r.answer.tokens} tokens), log-probability ${r.answer.logProb.toFixed(2)} given the whole prompt (${r.promptTokens} tokens)`,
    r.method === 'leave-one-out'
      ? `Method: leave-one-out, ${r.ablations} ablations (exact)`
      : `Method: random ablations with a sparse linear surrogate, ${r.ablations} ablations`,
    '',
    '  #  kind        tokens   Δ log-prob  attention  section',
  ];
  const order = [...r.sections].sort((a, b) => a.ablation.logProbDelta - b.ablation.logProbDelta);
  for (const s of order) {
    lines.push(
      `${String(s.index).padStart(3)}  ${s.kind.padEnd(10)} ${String(s.tokens).padStart(7)}  ${s.ablation.logProbDelta.toFixed(2).padStart(11)}  ${percent(s.attention).padStart(9)}  ${s.label}${s.disagreement ? `  (${s.disagreement})` : ''}`,
    );
  }
  lines.push('', savingsLine(r));
  return `${lines.join('\n')}\n`;
}

export function toAttributeHtml(modelId: string, r: AttributionResult): string {
  const worst = Math.max(1e-9, ...r.sections.map((s) => -s.ablation.logProbDelta));
  const saved = new Set(r.savings.sections);
  return htmlPage(
    'Which sections drive the answer',
    [
      `Model ${modelId}. Answer: ${r.answer.text} (${r.answer.tokens} tokens, log-probability ${r.answer.logProb.toFixed(2)}).`,
      `Method: ${r.method}, ${r.ablations} ablations.`,
      savingsLine(r),
    ],
    ['#', 'kind', 'section', 'tokens', 'Δ log-prob', 'attention', 'note'],
    r.sections.map((s) => ({
      cells: [
        String(s.index),
        s.kind,
        s.label,
        String(s.tokens),
        s.ablation.logProbDelta.toFixed(2),
        percent(s.attention),
        saved.has(s.index) ? 'could be cut' : (s.disagreement ?? ''),
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
      const result = await attributeAnswer(explain.model, prompt, spec, {
        onProgress: (p) => {
          if (io.stderr.isTTY) io.stderr.write(`\r${p.message} (${p.done}/${p.total})\x1b[K`);
        },
      });
      if (io.stderr.isTTY) io.stderr.write('\r\x1b[K');
      const model = modelJson(explain.loaded);
      const output =
        format === 'json'
          ? `${JSON.stringify(toAttributeJson(model, result))}\n`
          : format === 'html'
            ? toAttributeHtml(model.id, result)
            : toAttributeText(model.id, result);
      await writeOutput(io, args.out ?? (format === 'html' ? 'attribution.html' : null), output);
    } finally {
      await explain.release();
    }
    return 0;
  } catch (error) {
    return explainFailure(io, 'attribute', ATTRIBUTE_USAGE, error);
  }
}
