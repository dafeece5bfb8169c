// `prompt-attention inspect`: runs the engine in-process on a file or stdin and writes JSON, an HTML
// report or a terminal summary. Bad input: one line on stderr, exit 1; usage errors exit 2. Stack traces
// only with --verbose, which logs the stages and timings to stderr as well.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineError, generateAnswer, GenerationSession, ModelCache, runInspection } from '../engine/inspectApi';
import type { GeneratedAnswer } from '../engine/inspectApi';
import { buildReportHtml } from '../report/reportHtml';
import { firstLine } from '../shared/errorText';
import { silentLog, streamLog, type Log } from '../shared/log';
import { DownloadRate, downloadLine } from '../shared/downloadRate';
import { progressText } from '../shared/progressText';
import type { InspectionResult } from '../shared/protocol';
import { ResultCollector } from '../shared/resultFold';
import type { InspectArgs } from './inspectArgs';
import { INSPECT_HELP, INSPECT_USAGE, parseInspectArgs, UsageError } from './inspectArgs';
import { readAnswerFile } from './inspectAnswerFile';
import { denseAttention, denseWithAnswer, toInspectJson, toInspectText } from './inspectFormat';
import { readInputBytes } from './readInput';

export const DENSE_LIMIT_TOKENS = 512;

export interface InspectCommandIo {
  readonly stdout: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean };
  readonly stdin: AsyncIterable<Buffer | string>;
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'prompt-attention');
}

/** dist/cli.js → ../models (the embedded default model ships next to dist/). */
function modelsDir(): string {
  return path.join(__dirname, '..', 'models');
}

async function readInput(file: string, io: InspectCommandIo): Promise<{ text: string; label: string }> {
  const bytes = await readInputBytes(file, io.stdin);
  // Invalid UTF-8 becomes U+FFFD, which the engine's binary check counts.
  return { text: new TextDecoder('utf-8').decode(bytes), label: file === '-' ? 'stdin' : path.basename(file) };
}

class DenseLimitError extends EngineError {}

async function inspect(
  args: InspectArgs,
  text: string,
  label: string,
  io: InspectCommandIo,
  wantRaw: boolean,
  log: Log,
): Promise<{
  result: InspectionResult;
  raw: Float32Array[];
  answer: GeneratedAnswer | null;
  valueNorm: Float32Array[] | null;
}> {
  const models = new ModelCache({
    modelsDir: modelsDir(),
    cacheDir: args.cacheDir ?? defaultCacheDir(),
    ...(args.hubEndpoint ? { hubEndpoint: args.hubEndpoint } : {}),
  });
  const collected = new ResultCollector();
  let answer: GeneratedAnswer | null = null;
  let valueNorm: Float32Array[] | null = null;
  const raw: Float32Array[] = [];
  const showProgress = io.stderr.isTTY === true;
  const rate = new DownloadRate();
  const request = {
    requestId: 1,
    text,
    model: args.model,
    provider: args.provider,
    maxCharacters: args.maxCharacters,
    maxTokens: args.maxTokens,
    window: args.window,
    ...(args.chat ? { chat: { userMessage: '' } } : {}),
    dtype: args.dtype,
  };
  try {
    const model = await models.get(
      args.model,
      args.provider,
      (p) => {
        if (p.stage !== 'download') log.info(progressText(p));
        if (showProgress && p.stage === 'download' && p.loadedBytes !== undefined) {
          rate.add(p.loadedBytes);
          io.stderr.write(`\r\x1b[K${progressText(p)} · ${downloadLine(p.loadedBytes, p.totalBytes, rate)}`);
        }
      },
      args.dtype,
    );
    if (showProgress) io.stderr.write('\r\x1b[K');
    await runInspection(
      model,
      request,
      {
        emit: (event) => {
          collected.sink(event);
          switch (event.kind) {
            case 'header':
              if (wantRaw && event.header.tokens.length > DENSE_LIMIT_TOKENS) {
                throw new DenseLimitError(
                  `--dense prints full attention for at most ${DENSE_LIMIT_TOKENS} tokens; this input has ${event.header.tokens.length} (add --max-tokens ${DENSE_LIMIT_TOKENS}).`,
                );
              }
              break;
            case 'progress':
              log.info(progressText(event));
              break;
            default:
              break;
          }
        },
        ...(wantRaw ? { onRawLayer: (_l: number, data: Float32Array) => raw.push(data) } : {}),
      },
      () => false,
    );
    const header = collected.partial.header;
    if (args.weighting === 'value-norm' && header) {
      if (header.tokens.length > DENSE_LIMIT_TOKENS)
        throw new EngineError(
          `--weighting value-norm prints full rows for at most ${DENSE_LIMIT_TOKENS} tokens; this input has ${header.tokens.length} (add --max-tokens ${DENSE_LIMIT_TOKENS}).`,
        );
      const session = await GenerationSession.open(model.folder, model.config, {
        provider: args.provider,
        dtype: args.dtype,
        valueNorms: true,
      });
      try {
        valueNorm = await session.valueNormRows(header.tokens.map((t) => t.id));
      } finally {
        await session.dispose();
      }
    }
    if (args.answer !== null && header)
      answer = await readAnswerFile(args.answer, text, model, header.tokens.length, args);
    if (args.generate > 0 && header) {
      const session = await GenerationSession.open(model.folder, model.config, {
        provider: args.provider,
        dtype: args.dtype,
      });
      try {
        answer = await generateAnswer(
          model,
          session,
          header.tokens.map((t) => t.id),
          { maxTokens: args.generate, temperature: args.temperature, seed: args.seed, provider: args.provider },
        );
        if (!answer.kvCache) log.info('The model has no KV cache inputs: each answer token ran the whole sequence.');
      } finally {
        await session.dispose();
      }
    }
  } finally {
    await models.release();
  }
  const result = collected.result({ label, offset: 0 });
  if (!result) throw new Error('inspection ended without a result');
  return { result: { ...result, source: { label, offset: 0 } }, raw, answer, valueNorm };
}

async function readAsset(name: string): Promise<string> {
  const file = path.join(__dirname, name);
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    throw new EngineError(`The report needs ${file}; run npm run build first.`);
  }
}

async function writeOut(file: string, content: string): Promise<void> {
  try {
    await fs.writeFile(file, content);
  } catch (error) {
    throw new EngineError(`Cannot write ${file}: ${firstLine(error)}`);
  }
}

/** Runs the command; `argv` are the arguments after `inspect`. Resolves to the exit code. */
export async function runInspectCommand(argv: readonly string[], io: InspectCommandIo = process): Promise<number> {
  let args: InspectArgs;
  try {
    const parsed = parseInspectArgs(argv);
    if (parsed === 'help') {
      io.stdout.write(`${INSPECT_HELP}\n`);
      return 0;
    }
    args = parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`prompt-attention inspect: ${error.message}\n${INSPECT_USAGE}\n`);
    return 2;
  }
  const log = args.verbose ? streamLog(io.stderr, 'prompt-attention') : silentLog;
  try {
    const format = args.format ?? (io.stdout.isTTY ? 'text' : 'json');
    const { text, label } = await readInput(args.file, io);
    const { result, raw, answer, valueNorm } = await inspect(args, text, label, io, args.dense, log);
    const t = result.summary.timings;
    log.info(
      `${result.tokens.length} tokens on ${result.model.provider} in ${t.totalMs.toFixed(0)} ms (tokenize ${t.tokenizeMs.toFixed(0)}, run ${t.runMs.toFixed(0)}, statistics ${t.statsMs.toFixed(0)})`,
    );
    if (format === 'html') {
      const html = buildReportHtml(result, {
        webviewJs: await readAsset('webview.js'),
        webviewCss: await readAsset('webview.css'),
      });
      const out = args.out ?? path.resolve(`${label}.attention.html`);
      await writeOut(out, html);
      io.stdout.write(`${out}\n`);
      return 0;
    }
    const output =
      format === 'json'
        ? `${JSON.stringify(
            toInspectJson(
              result,
              valueNorm
                ? denseAttention(valueNorm, result.model.heads, result.tokens.length)
                : args.dense
                  ? answer
                    ? denseWithAnswer(raw, result.model.heads, result.tokens.length, answer.rows)
                    : denseAttention(raw, result.model.heads, result.tokens.length)
                  : undefined,
              answer ? { text: answer.text, tokens: answer.tokens } : undefined,
              valueNorm ? 'value-norm' : undefined,
            ),
          )}\n`
        : toInspectText(result) +
          (answer ? `\nAnswer (${answer.tokens.length} tokens): ${JSON.stringify(answer.text)}\n` : '');
    if (args.out) {
      await writeOut(args.out, output);
      io.stdout.write(`${args.out}\n`);
    } else {
      io.stdout.write(output);
    }
    return 0;
  } catch (error) {
    const message = error instanceof EngineError ? error.message : `internal error: ${firstLine(error)}`;
    io.stderr.write(`prompt-attention: ${message}\n`);
    log.error('the inspection failed', error);
    return 1;
  }
}
