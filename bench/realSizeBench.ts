// The real-size benchmark: the 0.5B-shaped fixture (realSizeFixture.ts) at 2,048 tokens. Each figure comes
// from fresh child processes (realSizeChild.ts): the peak RSS of a plain prefill and of an inspection, each
// in its own process; the ready and run times in one process, alternated or interleaved per round so
// background load hits both alike. The tapped graph is built (and its time reported) before any of them.
// Twice: the fp32 fixture (the budgets' keys) and its q4 variant (GroupQueryAttention + MatMulNBits, the
// onnxruntime-genai builder's q4 export), figures alone.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelTokenizer, prepareTappedModel } from '../src/engine/benchInternals';
import { runChildJob } from './childJob';
import { textOfTokens } from './engineBench';
import type { RealSizeJob, RealSizeReport } from './realSizeChild';
import type { RealSizeVariant } from './realSizeFixture';
import { REALSIZE_ATTENTION, REALSIZE_SHAPE, realSizeFixture, VARIANT_FILE } from './realSizeFixture';

export interface RealSizeOptions {
  readonly root: string;
  readonly tokens: number;
  readonly rounds: number;
  readonly loads: number;
  readonly log: (line: string) => void;
}

export interface RealSizeFigures {
  readonly dtype: RealSizeVariant;
  readonly shape: typeof REALSIZE_SHAPE;
  readonly modelBytes: number;
  readonly tokens: number;
  readonly tokensInspected: number;
  readonly notes: readonly string[];
  /** First-ever surgery (empty tap cache), or null when the cache already had the entry. */
  readonly prepareMs: number | null;
  readonly rawReadyMs: number;
  readonly engineReadyMs: number;
  readonly rawMs: number;
  readonly fullMs: number;
  readonly stagesMs: { readonly run: number; readonly stats: number };
  readonly rawPeakRssBytes: number;
  readonly inspectPeakRssBytes: number;
  /** The q4 variant measured the same way (only on the fp32 figures; null if it failed). */
  readonly q4?: RealSizeFigures | null;
}

function runChild(root: string, job: RealSizeJob, dir: string): Promise<RealSizeReport> {
  const jobFile = path.join(dir, `job-${job.mode}.json`);
  const child = { script: 'realSizeChild.ts', jobFile, timeoutMs: 600_000, label: `real-size ${job.mode}` };
  return runChildJob<RealSizeReport>(root, child, job);
}

export async function runRealSizeBench(options: RealSizeOptions): Promise<RealSizeFigures> {
  const fp32 = await runRealSizeVariant(options, 'fp32');
  const q4 = await runRealSizeVariant(options, 'q4').catch((error: unknown) => {
    options.log(`real-size q4 failed: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  });
  return { ...fp32, q4 };
}

/** One variant's figures (runRealSizeBench runs both). */
export async function runRealSizeVariant(options: RealSizeOptions, variant: RealSizeVariant): Promise<RealSizeFigures> {
  const { root } = options;
  const log = (line: string): void =>
    options.log(variant === 'fp32' ? line : line.replace(/^real-size/, `real-size ${variant}`));
  const folder = await realSizeFixture(root, log, variant);
  const cacheDir = path.join(root, '.cache', 'bench-realsize-cache');
  const modelFile = path.join(folder, VARIANT_FILE[variant]);
  let prepareMs: number | null = null;
  const started = performance.now();
  // With the heads, as the engine's load asks (value norms): an entry without them is rebuilt inside the measured
  // child, and that build's peak (about 4 GiB) was counted as the inspection's.
  await prepareTappedModel(modelFile, REALSIZE_SHAPE.layers, cacheDir, {
    attention: REALSIZE_ATTENTION,
    heads: REALSIZE_SHAPE.heads,
    onPreparing: () => log('real-size: preparing the tapped graph (once)'),
  });
  if (performance.now() - started > 1000) prepareMs = performance.now() - started;
  const tokenizer = await ModelTokenizer.load(folder);
  const text = textOfTokens(tokenizer, root, options.tokens);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-bench-realsize-'));
  try {
    const job = {
      folder,
      cacheDir,
      text,
      tokens: options.tokens,
      rounds: options.rounds,
      loads: options.loads,
      modelFile: VARIANT_FILE[variant],
      dtype: variant,
    };
    const raw = await runChild(root, { ...job, mode: 'raw' }, dir);
    log(`real-size raw prefill ${options.tokens} tokens: peak RSS ${(raw.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
    const inspected = await runChild(root, { ...job, mode: 'inspect' }, dir);
    log(
      `real-size inspection: ${inspected.tokensInspected} tokens, peak RSS ${(inspected.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
    // The timing child is the longest; if it fails, the memory and token figures still stand.
    const timed: Partial<RealSizeReport> = await runChild(root, { ...job, mode: 'time' }, dir).catch(
      (error: unknown) => {
        log(`real-size timing failed: ${error instanceof Error ? error.message : String(error)}`);
        return {};
      },
    );
    const figures: RealSizeFigures = {
      dtype: variant,
      shape: REALSIZE_SHAPE,
      modelBytes: statSync(modelFile).size,
      tokens: options.tokens,
      tokensInspected: inspected.tokensInspected ?? 0,
      notes: inspected.notes ?? [],
      prepareMs,
      rawReadyMs: timed.rawReadyMs ?? Number.NaN,
      engineReadyMs: timed.engineReadyMs ?? Number.NaN,
      rawMs: timed.rawMs ?? Number.NaN,
      fullMs: timed.fullMs ?? Number.NaN,
      stagesMs: timed.stagesMs ?? { run: Number.NaN, stats: Number.NaN },
      rawPeakRssBytes: raw.peakRssBytes,
      inspectPeakRssBytes: inspected.peakRssBytes,
    };
    log(
      `real-size ${options.tokens} tokens: raw ${figures.rawMs.toFixed(0)} ms, full ${figures.fullMs.toFixed(0)} ms (full/raw ${(figures.fullMs / figures.rawMs).toFixed(2)}); ` +
        `ready: session ${figures.rawReadyMs.toFixed(0)} ms, engine ${figures.engineReadyMs.toFixed(0)} ms (${(figures.engineReadyMs / figures.rawReadyMs).toFixed(2)})`,
    );
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
