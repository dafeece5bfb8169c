// Runs in a fresh child process (node --import tsx) for the real-size benchmark, one job per process:
// - 'raw': a plain session of the source model and one prefill of the tokens; the process's peak RSS.
// - 'inspect': the engine's load (cached tapped graph) and one inspection; its peak RSS and tokens inspected.
// - 'time': ready times (plain session creation vs the engine's load, alternated) and run times (raw prefill
//   vs full inspection, interleaved per round), medians, all in this one process.
// Prints one JSON line.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { InspectionEvent } from '../src/shared/protocol';
import type { InspectRequest } from '../src/engine/inspectApi';
import type { ModelDtype } from '../src/engine/inspectApi';
import { runInspection } from '../src/engine/inspectApi';
import {
  createSession,
  LoadedModel,
  ModelTokenizer,
  prefillFeeds,
  prepareTappedModel,
} from '../src/engine/benchInternals';
import { REALSIZE_ATTENTION, REALSIZE_SHAPE } from './realSizeFixture';
import { median } from './stats';

export interface RealSizeJob {
  readonly mode: 'raw' | 'inspect' | 'time';
  readonly folder: string;
  readonly cacheDir: string;
  readonly text: string;
  readonly tokens: number;
  readonly rounds: number;
  readonly loads: number;
  /** The graph to run, relative to the folder, and the dtype the engine is asked for. */
  readonly modelFile: string;
  readonly dtype: ModelDtype;
}

export interface RealSizeReport {
  readonly peakRssBytes: number;
  readonly tokensInspected?: number;
  readonly notes?: readonly string[];
  readonly rawReadyMs?: number;
  readonly engineReadyMs?: number;
  readonly rawMs?: number;
  readonly fullMs?: number;
  readonly stagesMs?: { readonly run: number; readonly stats: number };
}

async function inspect(
  model: LoadedModel,
  job: RealSizeJob,
): Promise<{ ms: number; tokens: number; notes: readonly string[]; runMs: number; statsMs: number }> {
  const request: InspectRequest = {
    requestId: 1,
    text: job.text,
    model: '',
    provider: 'cpu',
    maxCharacters: 10_000_000,
    maxTokens: job.tokens,
    window: 'start',
    rowsOnDemand: true,
  };
  let tokens = 0;
  let notes: readonly string[] = [];
  let runMs = Number.NaN;
  let statsMs = Number.NaN;
  const started = performance.now();
  await runInspection(
    model,
    request,
    {
      emit: (event: InspectionEvent) => {
        if (event.kind === 'header') tokens = event.header.tokens.length;
        if (event.kind !== 'summary') return;
        notes = event.summary.notes;
        runMs = event.summary.timings.runMs;
        statsMs = event.summary.timings.statsMs;
      },
    },
    () => false,
  );
  return { ms: performance.now() - started, tokens, notes, runMs, statsMs };
}

const load = (job: RealSizeJob): Promise<LoadedModel> =>
  LoadedModel.load(job.folder, { id: 'realsize', cacheDir: job.cacheDir, provider: 'cpu', dtype: job.dtype });

async function main(): Promise<RealSizeReport> {
  const job = JSON.parse(readFileSync(process.argv[2], 'utf8')) as RealSizeJob;
  const modelFile = path.join(job.folder, job.modelFile);
  const runtime = await import('onnxruntime-node');
  const tapped = await prepareTappedModel(modelFile, 24, job.cacheDir, { attention: REALSIZE_ATTENTION });
  const peak = (): number => process.resourceUsage().maxRSS * 1024;
  if (job.mode === 'inspect') {
    const model = await load(job);
    const result = await inspect(model, job);
    return { peakRssBytes: peak(), tokensInspected: result.tokens, notes: result.notes };
  }
  const ids = (await ModelTokenizer.load(job.folder)).tokenize(job.text).ids.slice(0, job.tokens);
  // The graph's own inputs (the q4 builder graph takes an empty cache and no position ids).
  const feeds = prefillFeeds(runtime, tapped.inputs, ids, {
    kvHeads: REALSIZE_SHAPE.kvHeads,
    headDim: REALSIZE_SHAPE.hidden / REALSIZE_SHAPE.heads,
  });
  if (job.mode === 'raw') {
    const raw = (await createSession(modelFile, 'cpu')).session;
    await raw.run(feeds);
    return { peakRssBytes: peak() };
  }
  const rawReady: number[] = [];
  const engineReady: number[] = [];
  for (let i = 0; i < job.loads; i++) {
    let t = performance.now();
    const raw = (await createSession(modelFile, 'cpu')).session;
    rawReady.push(performance.now() - t);
    await raw.release();
    t = performance.now();
    const model = await load(job);
    engineReady.push(performance.now() - t);
    await model.dispose();
  }
  const raw = (await createSession(modelFile, 'cpu')).session;
  const model = await load(job);
  const rawMs: number[] = [];
  const fullMs: number[] = [];
  const run: number[] = [];
  const stats: number[] = [];
  let tokens = 0;
  for (let round = 0; round <= job.rounds; round++) {
    const t = performance.now();
    await raw.run(feeds);
    const r = performance.now() - t;
    const full = await inspect(model, job);
    tokens = full.tokens;
    if (round === 0) continue; // warm-up
    rawMs.push(r);
    fullMs.push(full.ms);
    run.push(full.runMs);
    stats.push(full.statsMs);
  }
  return {
    peakRssBytes: peak(),
    tokensInspected: tokens,
    rawReadyMs: median(rawReady),
    engineReadyMs: median(engineReady),
    rawMs: median(rawMs),
    fullMs: median(fullMs),
    stagesMs: { run: median(run), stats: median(stats) },
  };
}

main().then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
