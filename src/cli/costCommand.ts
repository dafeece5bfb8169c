// `prompt-attention cost <file|-> [--target <id>] [--json] [--kv-dtype <dtype>] [--kv-budget-gib <n>] [--presets
// <file.json>]`: the context cost of a prompt on a target model. Exit codes: 0 ok, 1 bad input, 2 usage error.
import { readFile } from 'node:fs/promises';
import { firstLine } from '../shared/errorText';
import { breakdownText, costBreakdown } from '../cost/costBreakdown';
import { computeCost } from '../cost/costModel';
import { resolveOptions, toCostSummary } from '../cost/costSummary';
import { IncrementalCounter } from '../cost/incrementalCounter';
import {
  buildCatalog,
  DEFAULT_TARGET_ID,
  findPreset,
  KV_DTYPE_BYTES,
  unknownTargetMessage,
  type KvDtype,
} from '../cost/presets';
import { chatOverheadTokens, loadTokenCounter } from '../cost/tokenCounters';

export interface CostCommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Read when the file argument is "-". */
  readonly stdin: AsyncIterable<Buffer | string>;
}

export const COST_USAGE = `usage: prompt-attention cost <file|-> [--target <id>] [--json] [--kv-dtype <${Object.keys(KV_DTYPE_BYTES).join('|')}>] [--kv-budget-gib <n, 0 = off, default 8>] [--presets <file.json>]`;

interface CostArgs {
  readonly file: string;
  readonly target: string;
  readonly json: boolean;
  readonly kvDtype?: KvDtype;
  readonly kvBudgetBytes?: number;
  readonly presetsFile?: string;
}

class UsageError extends Error {}
class InputError extends Error {}

function parseArgs(argv: readonly string[]): CostArgs | 'help' {
  let file: string | undefined;
  let target = DEFAULT_TARGET_ID;
  let json = false;
  let kvDtype: KvDtype | undefined;
  let presetsFile: string | undefined;
  let kvBudgetBytes: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined || next === '') throw new UsageError(`${flag} needs a value`);
      return next;
    };
    if (flag === '--help' || flag === '-h') return 'help';
    else if (flag === '--json') json = true;
    else if (flag === '--target' || flag === '-t') target = value();
    else if (flag === '--presets') presetsFile = value();
    else if (flag === '--kv-budget-gib') {
      const gib = Number(value());
      if (!Number.isFinite(gib) || gib < 0) throw new UsageError('--kv-budget-gib must be a number of GiB, 0 or more');
      kvBudgetBytes = Math.round(gib * 1024 ** 3);
    } else if (flag === '--kv-dtype') {
      const dtype = value();
      if (!(dtype in KV_DTYPE_BYTES))
        throw new UsageError(`--kv-dtype must be one of ${Object.keys(KV_DTYPE_BYTES).join(', ')}`);
      kvDtype = dtype as KvDtype;
    } else if (flag.startsWith('-') && flag !== '-') throw new UsageError(`unknown option ${flag}`);
    else if (file === undefined) file = arg;
    else throw new UsageError(`unexpected argument ${arg} (one file at a time)`);
  }
  if (file === undefined) throw new UsageError('missing <file|-> (use - for standard input)');
  return {
    file,
    target,
    json,
    ...(kvDtype ? { kvDtype } : {}),
    ...(kvBudgetBytes !== undefined ? { kvBudgetBytes } : {}),
    ...(presetsFile ? { presetsFile } : {}),
  };
}

async function readInput(file: string, stdin: CostCommandIo['stdin']): Promise<string> {
  let bytes: Buffer;
  if (file === '-') {
    const parts: Buffer[] = [];
    for await (const part of stdin) parts.push(typeof part === 'string' ? Buffer.from(part) : part);
    bytes = Buffer.concat(parts);
  } else {
    try {
      bytes = await readFile(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InputError(
        code === 'ENOENT'
          ? `${file}: no such file`
          : code === 'EISDIR'
            ? `${file}: is a directory`
            : `${file}: ${(error as Error).message}`,
      );
    }
  }
  const label = file === '-' ? 'standard input' : file;
  if (bytes.subarray(0, 8192).includes(0))
    throw new InputError(`${label}: looks like a binary file (NUL bytes), expected text`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw new InputError(`${label}: not valid UTF-8 text`);
  }
}

async function readPresets(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    throw new InputError(`--presets ${path}: ${firstLine(error)}`);
  }
}

/** Runs the command; `argv` are the arguments after `cost`. Resolves to the exit code. */
export async function runCostCommand(argv: string[], io: CostCommandIo = process): Promise<number> {
  try {
    const args = parseArgs(argv);
    if (args === 'help') {
      io.stdout.write(`${COST_USAGE}\n`);
      return 0;
    }
    const catalog = buildCatalog(args.presetsFile ? await readPresets(args.presetsFile) : undefined);
    if (catalog.errors.length > 0) throw new InputError(catalog.errors[0]);
    const preset = findPreset(catalog, args.target);
    if (!preset) throw new InputError(unknownTargetMessage(catalog, args.target));
    const text = await readInput(args.file, io.stdin);
    const counter = await loadTokenCounter(preset.tokenizer);
    const tokens = new IncrementalCounter(counter).update(text).total;
    const options = resolveOptions({
      ...(args.kvDtype ? { kvDtype: args.kvDtype } : {}),
      ...(args.kvBudgetBytes !== undefined ? { kvBudgetBytes: args.kvBudgetBytes } : {}),
    });
    const figures = computeCost(preset, tokens, options.kvDtype, chatOverheadTokens(preset, counter));
    const summary = toCostSummary(preset, figures, options);
    if (args.json) {
      const tier = figures.priceTier;
      const document = {
        target: summary.target,
        tokenizer: preset.tokenizer,
        exact: preset.exact,
        tokens,
        chatOverheadTokens: preset.chatFraming ? figures.chatOverheadTokens : null,
        contextWindow: summary.contextWindow,
        contextShare: summary.contextShare,
        attentionScores: summary.attentionScores,
        attentionFlops: summary.attentionFlops,
        linearFlops: summary.linearFlops,
        kvCacheBytes: summary.kvCacheBytes,
        price: summary.price,
        priceTier: tier?.tiered
          ? { pricePerMillionInputTokens: tier.pricePerMillionInputTokens, aboveTokens: tier.aboveTokens }
          : null,
        warnings: summary.warnings,
      };
      io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    } else {
      const warnings = summary.warnings.map((warning) => `warning: ${warning}`);
      io.stdout.write(`${[breakdownText(costBreakdown(preset, figures)), ...warnings].join('\n')}\n`);
    }
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError;
    io.stderr.write(
      `prompt-attention cost: ${(error as Error).message}${usage ? ' (see prompt-attention cost --help)' : ''}\n`,
    );
    return usage ? 2 : 1;
  }
}
