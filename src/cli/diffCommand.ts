// `prompt-attention diff <old> <new> [--answer <file>]`: two versions of a prompt, section by section
// (added, removed, changed, same), with the tokens and the attention each section receives in each, and
// with --answer the change in the answer attribution. Identical files: "no difference", exit 0.
import { EngineError, sectionDiffReport } from '../engine/inspectApi';
import type { DiffJson } from '../shared/explainReport';
import type { ExplainIo } from './explainIo';
import {
  explainFailure,
  ExplainUsageError,
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

export function toDiffText(doc: DiffJson): string {
  const lines = [
    `Tokens (counted by ${doc.model.id}'s tokenizer): ${doc.old.tokens} → ${doc.new.tokens} (${doc.tokenDelta >= 0 ? '+' : ''}${doc.tokenDelta})`,
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
    let doc: DiffJson | null;
    try {
      doc = await sectionDiffReport({ loaded: explain.loaded, model: explain.model }, { oldText, newText, answer });
    } finally {
      await explain.release();
    }
    if (doc === null) throw new Error('the texts differ but the diff found them identical');
    const output =
      format === 'json'
        ? `${JSON.stringify(doc)}\n`
        : format === 'text'
          ? toDiffText(doc)
          : htmlPage(
              'Prompt diff by section',
              [
                `Tokens (counted by ${doc.model.id}'s tokenizer): ${doc.old.tokens} → ${doc.new.tokens} (${doc.tokenDelta >= 0 ? '+' : ''}${doc.tokenDelta}).`,
              ],
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
