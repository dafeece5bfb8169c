// `prompt-attention diff <old> <new> [--answer <file>]`: two versions of a prompt, section by section
// (added, removed, changed, same), with the tokens and the attention each section receives in each, and
// with --answer the change in the answer attribution. Identical files: "no difference", exit 0.
import {
  attentionFlops,
  attributeAnswer,
  attributionUnits,
  diffSections,
  EngineError,
  meanReceived,
  sectionAttention,
  splitPromptSections,
  validateText,
} from '../engine/inspectApi';
import type { DiffInputSection, SectionDiffEntry } from '../engine/inspectApi';
import type { ExplainIo, LoadedExplainModel } from './explainIo';
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

export const DIFF_USAGE =
  'usage: prompt-attention diff <old> <new> [--answer <file>] [--model <folder|hub id>] [--dtype <dtype>] [--provider auto|cpu|…] ' +
  '[--format json|html|text] [--out <file>] [--cache-dir <dir>]';

const HELP = `${DIFF_USAGE}

Compares two versions of a prompt section by section: added, removed, changed or same, with each
section's tokens and share of the attention in both versions; with --answer, also how much the answer
depends on each section in each version. Identical files print "no difference" and exit 0.
Exit codes: 0 ok, 1 bad input or model error, 2 usage error.`;

const OPTIONS = ['--answer', '--model', '--dtype', '--provider', '--format', '--out', '--cache-dir'];

export interface DiffJson {
  readonly old: { readonly tokens: number; readonly attentionFlops: number };
  readonly new: { readonly tokens: number; readonly attentionFlops: number };
  readonly tokenDelta: number;
  readonly sections: readonly SectionDiffEntry[];
}

interface Version {
  readonly tokens: number;
  readonly sections: DiffInputSection[];
}

async function measure(explain: LoadedExplainModel, text: string, answer: string | null): Promise<Version> {
  if (answer !== null) {
    const r = await attributeAnswer(explain.model, text, { text: answer });
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
  const { ids, tokens } = explain.loaded.tokenizer.tokenize(text);
  const limit = explain.loaded.config.maxPositions;
  if (ids.length > limit)
    throw new EngineError(`The prompt has ${ids.length} tokens, more than the model's context of ${limit}.`);
  const layers = await explain.loaded.runAttention(ids, { probabilities: false });
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

export function toDiffText(doc: DiffJson): string {
  const lines = [
    `Tokens: ${doc.old.tokens} → ${doc.new.tokens} (${doc.tokenDelta >= 0 ? '+' : ''}${doc.tokenDelta})`,
    '',
  ];
  for (const s of doc.sections) {
    const tokens = s.status === 'same' ? `${s.newTokens}` : `${s.oldTokens} → ${s.newTokens}`;
    const share = `${(s.oldAttentionShare * 100).toFixed(1)}% → ${(s.newAttentionShare * 100).toFixed(1)}%`;
    const attribution =
      s.oldLogProbDelta !== undefined && s.newLogProbDelta !== undefined
        ? `, Δ log-prob ${s.oldLogProbDelta.toFixed(2)} → ${s.newLogProbDelta.toFixed(2)}`
        : '';
    lines.push(`${s.status.padEnd(8)} ${s.label}  (tokens ${tokens}, attention ${share}${attribution})`);
  }
  return `${lines.join('\n')}\n`;
}

export async function runDiffCommand(argv: readonly string[], io: ExplainIo = process): Promise<number> {
  try {
    const args = parseExplainArgs(argv, OPTIONS);
    if (args === 'help') {
      io.stdout.write(`${HELP}\n`);
      return 0;
    }
    if (args.positional.length !== 2)
      throw new ExplainUsageError(`Expected two files, <old> and <new>; got ${args.positional.length}.`);
    const [oldFile, newFile] = args.positional;
    if (oldFile === '-' && newFile === '-')
      throw new ExplainUsageError('Only one of <old> and <new> can be standard input.');
    const oldText = await readText(oldFile, io);
    const newText = await readText(newFile, io, oldFile === '-');
    if (oldText === newText) {
      io.stdout.write('no difference\n');
      return 0;
    }
    const answer = args.answer !== null ? await readText(args.answer, io, oldFile === '-' || newFile === '-') : null;
    if (answer !== null && answer.trim() === '') throw new EngineError('The answer is empty.');
    const format = args.format ?? (io.stdout.isTTY ? 'text' : 'json');
    const explain = await loadExplainModel(args);
    let doc: DiffJson;
    try {
      const before = await measure(explain, oldText, answer);
      const after = await measure(explain, newText, answer);
      const shape = {
        layers: explain.loaded.config.layers,
        heads: explain.loaded.config.heads,
        headDim: explain.loaded.config.headDim,
      };
      const sections = diffSections(before.sections, after.sections).map((s) => ({
        ...s,
        oldAttentionShare: fixed(s.oldAttentionShare),
        newAttentionShare: fixed(s.newAttentionShare),
        ...(s.oldLogProbDelta !== undefined && s.newLogProbDelta !== undefined
          ? { oldLogProbDelta: fixed(s.oldLogProbDelta), newLogProbDelta: fixed(s.newLogProbDelta) }
          : {}),
      }));
      doc = {
        old: { tokens: before.tokens, attentionFlops: attentionFlops(shape, before.tokens) },
        new: { tokens: after.tokens, attentionFlops: attentionFlops(shape, after.tokens) },
        tokenDelta: after.tokens - before.tokens,
        sections,
      };
    } finally {
      await explain.release();
    }
    const output =
      format === 'json'
        ? `${JSON.stringify(doc)}\n`
        : format === 'text'
          ? toDiffText(doc)
          : htmlPage(
              'Prompt diff by section',
              [`Tokens: ${doc.old.tokens} → ${doc.new.tokens} (${doc.tokenDelta >= 0 ? '+' : ''}${doc.tokenDelta}).`],
              ['status', 'section', 'old tokens', 'new tokens', 'old attention', 'new attention'],
              doc.sections.map((s) => ({
                cells: [
                  s.status,
                  s.label,
                  String(s.oldTokens),
                  String(s.newTokens),
                  `${(s.oldAttentionShare * 100).toFixed(1)}%`,
                  `${(s.newAttentionShare * 100).toFixed(1)}%`,
                ],
                bar: s.newAttentionShare,
                faint: s.status === 'same',
              })),
            );
    await writeOutput(io, args.out ?? (format === 'html' ? 'diff.html' : null), output);
    return 0;
  } catch (error) {
    return explainFailure(io, 'diff', DIFF_USAGE, error);
  }
}
