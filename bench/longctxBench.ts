// The long-context benchmark (`npm run bench -- --only longctx`): the 0.5B-shaped q4 fixture (GroupQueryAttention
// + MatMulNBits, realSizeFixture.ts) inspected at 8,192 tokens with rows on demand, against llama.cpp's prefill
// of a GGUF of the same shape (node-llama-cpp, CPU, 2 threads). Each run in a fresh child process
// (longctxChild.ts) for its peak RSS; the GGUF is written once into .cache/ by a child of its own. The engine
// also inspects that GGUF file itself (its graph built by one child, inspected by the next), reported beside.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelTokenizer } from '../src/engine/benchInternals';
import { runChildJob } from './childJob';
import { textOfTokens } from './engineBench';
import type { LongctxJob, LongctxReport } from './longctxChild';
import { realSizeFixture } from './realSizeFixture';

export interface LongctxOptions {
  readonly root: string;
  readonly tokens: number;
  readonly hovers: number;
  readonly log: (line: string) => void;
}

export interface LongctxFigures {
  readonly tokens: number;
  readonly tokensInspected: number;
  readonly notes: readonly string[];
  readonly inspectMs: number;
  readonly llamaCppMs: number;
  readonly ratioToLlamaCpp: number;
  readonly inspectPeakRssBytes: number;
  readonly llamaCppPeakRssBytes: number;
  readonly peakRssOverLlamaCppMiB: number;
  readonly payloadBytes: number;
  /** The kept fp16 Q and K the worker holds for rows on demand. */
  readonly keptBytes: number;
  /** p95 of answering a hovered row (late tokens; head mean or one head) from the kept Q and K, through the
   * worker's own path and row kernel (hoverPath.ts). */
  readonly hoverP95Ms: number;
  readonly loadAverage: { readonly start: number; readonly end: number };
  /** The same inspection of the GGUF file llama.cpp runs (the engine's own graph, a later load): beside the
   * budgets, which stay on the q4 fixture. */
  readonly gguf?: {
    readonly tokensInspected: number;
    readonly inspectMs: number;
    readonly ratioToLlamaCpp: number;
    readonly peakRssOverLlamaCppMiB: number;
    readonly keptBytes: number;
    readonly hoverP95Ms: number;
  };
}

function runChild(root: string, job: LongctxJob, dir: string): Promise<LongctxReport> {
  const jobFile = path.join(dir, `job-${job.mode}.json`);
  return runChildJob<LongctxReport>(
    root,
    { script: 'longctxChild.ts', jobFile, timeoutMs: 1_800_000, label: `longctx ${job.mode}` },
    job,
  );
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
};

export async function runLongctxBench(options: LongctxOptions): Promise<LongctxFigures> {
  const { root, log } = options;
  const loadStart = os.loadavg()[0];
  const folder = await realSizeFixture(root, log, 'q4');
  const cacheDir = path.join(root, '.cache', 'bench-realsize-cache');
  const ggufFile = path.join(root, '.cache', 'bench-longctx', 'qwen2.5-0.5b-shape-q5_0-v2.gguf');
  const tokenizer = await ModelTokenizer.load(folder);
  const text = textOfTokens(tokenizer, root, options.tokens);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-bench-longctx-'));
  try {
    const job = { folder, cacheDir, ggufFile, text, tokens: options.tokens, hovers: options.hovers };
    if (!existsSync(ggufFile)) {
      log('longctx: writing the same-shape GGUF for llama.cpp (once)');
      rmSync(path.dirname(ggufFile), { recursive: true, force: true });
      const { mkdirSync } = await import('node:fs');
      mkdirSync(path.dirname(ggufFile), { recursive: true });
      await runChild(root, { ...job, mode: 'gguf' }, dir);
    }
    const llama = await runChild(root, { ...job, mode: 'llama' }, dir);
    log(
      `longctx llama.cpp prefill ${options.tokens} tokens: ${(llama.ms ?? Number.NaN).toFixed(0)} ms, peak RSS ${(llama.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
    const inspected = await runChild(root, { ...job, mode: 'inspect' }, dir);
    await runChild(root, { ...job, mode: 'prepare-gguf' }, dir);
    const gguf = await runChild(root, { ...job, mode: 'inspect-gguf' }, dir);
    const figures: LongctxFigures = {
      tokens: options.tokens,
      tokensInspected: inspected.tokensInspected ?? 0,
      notes: inspected.notes ?? [],
      inspectMs: inspected.ms ?? Number.NaN,
      llamaCppMs: llama.ms ?? Number.NaN,
      ratioToLlamaCpp: (inspected.ms ?? Number.NaN) / (llama.ms ?? Number.NaN),
      inspectPeakRssBytes: inspected.peakRssBytes,
      llamaCppPeakRssBytes: llama.peakRssBytes,
      peakRssOverLlamaCppMiB: (inspected.peakRssBytes - llama.peakRssBytes) / 2 ** 20,
      payloadBytes: inspected.payloadBytes ?? Number.NaN,
      keptBytes: inspected.keptBytes ?? 0,
      hoverP95Ms: percentile(inspected.hoverMs ?? [], 0.95),
      loadAverage: { start: loadStart, end: os.loadavg()[0] },
      gguf: {
        tokensInspected: gguf.tokensInspected ?? 0,
        inspectMs: gguf.ms ?? Number.NaN,
        ratioToLlamaCpp: (gguf.ms ?? Number.NaN) / (llama.ms ?? Number.NaN),
        peakRssOverLlamaCppMiB: (gguf.peakRssBytes - llama.peakRssBytes) / 2 ** 20,
        keptBytes: gguf.keptBytes ?? 0,
        hoverP95Ms: percentile(gguf.hoverMs ?? [], 0.95),
      },
    };
    log(
      `longctx inspection ${figures.tokensInspected} of ${options.tokens} tokens: ${figures.inspectMs.toFixed(0)} ms ` +
        `(${figures.ratioToLlamaCpp.toFixed(2)}× llama.cpp), peak RSS ${(figures.inspectPeakRssBytes / 2 ** 20).toFixed(0)} MiB ` +
        `(+${figures.peakRssOverLlamaCppMiB.toFixed(0)}), payload ${(figures.payloadBytes / 2 ** 20).toFixed(2)} MiB, ` +
        `kept Q/K ${(figures.keptBytes / 2 ** 20).toFixed(0)} MiB, hover p95 ${figures.hoverP95Ms.toFixed(2)} ms`,
    );
    const g = figures.gguf;
    if (g)
      log(
        `longctx GGUF (the file llama.cpp ran) ${g.tokensInspected} tokens: ${g.inspectMs.toFixed(0)} ms ` +
          `(${g.ratioToLlamaCpp.toFixed(2)}× llama.cpp), peak +${g.peakRssOverLlamaCppMiB.toFixed(0)} MiB over llama.cpp, ` +
          `kept Q/K ${(g.keptBytes / 2 ** 20).toFixed(0)} MiB, hover p95 ${g.hoverP95Ms.toFixed(2)} ms`,
      );
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The budgets for this section: [key, value, limit, unit, met]. */
export function longctxBudgets(f: LongctxFigures): [string, number, number, string, boolean][] {
  return [
    [`longctx.tokensInspected${f.tokens}`, f.tokensInspected, f.tokens, 'tokens', f.tokensInspected === f.tokens],
    [`longctx.ratioToLlamaCpp${f.tokens}`, f.ratioToLlamaCpp, 1.5, '×', f.ratioToLlamaCpp <= 1.5],
    ['longctx.peakRssOverLlamaCppMiB', f.peakRssOverLlamaCppMiB, 1024, 'MiB', f.peakRssOverLlamaCppMiB <= 1024],
    [`longctx.payloadBytes${f.tokens}`, f.payloadBytes, 32 * 2 ** 20, 'bytes', f.payloadBytes <= 32 * 2 ** 20],
    [`longctx.hoverP95Ms${f.tokens}`, f.hoverP95Ms, 16, 'ms', f.hoverP95Ms <= 16],
  ];
}
