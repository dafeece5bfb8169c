// What `attribute` and `diff` share: their options, reading a prompt file (or stdin), loading the model
// twice over (tapped for attention, plain for log-probabilities), writing the output, and the small
// self-contained HTML page they write with --format html. Exit codes: 0 ok, 1 bad input, 2 usage.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  attributionModel,
  EngineError,
  isModelDtype,
  LogitsSession,
  MODEL_DTYPES,
  ModelCache,
} from '../engine/inspectApi';
import type { AttributionModel, LoadedModel, ModelDtype } from '../engine/inspectApi';
import type { ExecutionProviderSetting } from '../shared/protocol';
import { defaultCacheDir } from './inspectCommand';
import { firstLine } from '../shared/errorText';
import { readInputBytes } from './readInput';

export interface ExplainIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stdin: AsyncIterable<Buffer | string>;
}

export type ExplainFormat = 'json' | 'html' | 'text';

export interface ExplainArgs {
  readonly positional: string[];
  readonly answer: string | null;
  readonly generate: number | null;
  readonly model: string;
  readonly dtype: ModelDtype;
  readonly provider: ExecutionProviderSetting;
  readonly format: ExplainFormat | null;
  readonly out: string | null;
  readonly cacheDir: string | null;
  /** attribute --span START:END: the answer's characters to attribute. */
  readonly span: { readonly start: number; readonly end: number } | null;
}

export class ExplainUsageError extends Error {}

/** How `attribute` and `diff` end on an error: usage (exit 2, with the usage text) or one line (exit 1). */
export function explainFailure(io: ExplainIo, command: string, usage: string, error: unknown): number {
  if (error instanceof ExplainUsageError) {
    io.stderr.write(`prompt-attention ${command}: ${error.message}\n${usage}\n`);
    return 2;
  }
  const message =
    error instanceof EngineError
      ? error.message
      : `internal error: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`;
  io.stderr.write(`prompt-attention ${command}: ${message}\n`);
  return 1;
}

const PROVIDERS: readonly ExecutionProviderSetting[] = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'];
const FORMATS: readonly ExplainFormat[] = ['json', 'html', 'text'];

export function parseExplainArgs(argv: readonly string[], options: readonly string[]): ExplainArgs | 'help' {
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(0, eq) : arg;
      if (!options.includes(name)) throw new ExplainUsageError(`Unknown option ${name}.`);
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') throw new ExplainUsageError(`${name} needs a value.`);
      values.set(name, value);
    } else positional.push(arg);
  }
  const format = (values.get('--format') ?? null) as ExplainFormat | null;
  if (format !== null && !FORMATS.includes(format))
    throw new ExplainUsageError(`--format must be one of ${FORMATS.join(', ')}.`);
  const provider = (values.get('--provider') ?? 'auto') as ExecutionProviderSetting;
  if (!PROVIDERS.includes(provider)) throw new ExplainUsageError(`--provider must be one of ${PROVIDERS.join(', ')}.`);
  const dtype = values.get('--dtype') ?? 'auto';
  if (!isModelDtype(dtype)) throw new ExplainUsageError(`--dtype must be one of ${MODEL_DTYPES.join(', ')}.`);
  const generateText = values.get('--generate');
  if (generateText !== undefined && !/^[1-9]\d*$/.test(generateText))
    throw new ExplainUsageError(`--generate needs a positive number of tokens, not "${generateText}".`);
  const spanText = values.get('--span');
  const spanMatch = spanText === undefined ? null : /^(\d+):(\d+)$/.exec(spanText);
  if (spanText !== undefined && (!spanMatch || Number(spanMatch[1]) >= Number(spanMatch[2])))
    throw new ExplainUsageError(
      `--span needs START:END with START < END (characters of the answer), not "${spanText}".`,
    );
  return {
    positional,
    answer: values.get('--answer') ?? null,
    generate: generateText === undefined ? null : Number(generateText),
    model: values.get('--model') ?? '',
    dtype,
    provider,
    format,
    out: values.get('--out') ?? null,
    cacheDir: values.get('--cache-dir') ?? null,
    span: spanMatch ? { start: Number(spanMatch[1]), end: Number(spanMatch[2]) } : null,
  };
}

/** A text file (or "-" for stdin), UTF-8, BOM dropped; binary or unreadable input is one line. */
export async function readText(file: string, io: ExplainIo, stdinUsed = false): Promise<string> {
  if (file === '-' && stdinUsed) throw new ExplainUsageError('Standard input can be read only once.');
  const bytes = await readInputBytes(file, io.stdin);
  const label = file === '-' ? 'standard input' : file;
  if (bytes.subarray(0, 8192).includes(0))
    throw new EngineError(`${label} looks like a binary file (NUL bytes); expected text.`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new EngineError(`${label} is not valid UTF-8 text.`);
  }
}

export interface LoadedExplainModel {
  readonly loaded: LoadedModel;
  readonly logits: LogitsSession;
  readonly model: AttributionModel;
  release(): Promise<void>;
}

export async function loadExplainModel(args: ExplainArgs): Promise<LoadedExplainModel> {
  const cache = new ModelCache({
    modelsDir: path.join(__dirname, '..', 'models'),
    cacheDir: args.cacheDir ?? defaultCacheDir(),
  });
  const loaded = await cache.get(args.model, args.provider, () => undefined, args.dtype);
  let logits: LogitsSession;
  try {
    logits = await LogitsSession.open(loaded.folder, loaded.config, { provider: args.provider, dtype: args.dtype });
  } catch (error) {
    await cache.release();
    throw error;
  }
  return {
    loaded,
    logits,
    model: attributionModel(loaded, logits),
    release: async () => {
      await logits.dispose();
      await cache.release();
    },
  };
}

export async function writeOutput(io: ExplainIo, out: string | null, content: string): Promise<void> {
  if (!out) {
    io.stdout.write(content);
    return;
  }
  try {
    await fs.writeFile(out, content);
  } catch (error) {
    throw new EngineError(`Cannot write ${out}: ${firstLine(error)}`);
  }
  io.stdout.write(`${out}\n`);
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** A page with one table and a bar per row; no script, no external resource. */
export function htmlPage(
  title: string,
  intro: readonly string[],
  head: readonly string[],
  rows: readonly { readonly cells: readonly string[]; readonly bar: number; readonly faint?: boolean }[],
): string {
  const body = rows
    .map(
      (r) =>
        `<tr${r.faint ? ' class="faint"' : ''}>${r.cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}<td><span class="bar" style="width:${Math.round(Math.max(0, Math.min(1, r.bar)) * 200)}px"></span></td></tr>`,
    )
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}
.bar{display:inline-block;height:10px;background:#3b7dd8}.faint{opacity:.55}p{margin:4px 0}</style></head><body>
<h1>${escapeHtml(title)}</h1>${intro.map((p) => `<p>${escapeHtml(p)}</p>`).join('')}
<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}<th></th></tr></thead><tbody>
${body}
</tbody></table></body></html>
`;
}
