// One measurement of the GGUF bench in a fresh process (bench/ggufBench.ts runs it), printing one JSON line:
// - llamacpp: node-llama-cpp (CPU, 2 threads, batch 2,048, flash attention as llama.cpp defaults) loads the
//   file and prefills the ids `rounds` times (a fresh sequence each time);
// - first: the first use, graph built into an empty cache and the session created;
// - cached: a later load from the cache, then `rounds` full inspections of the text (runInspection, rows on
//   demand as the real-size and long-context benches: Q and K kept, no per-head rows in advance), with the
//   process's peak RSS;
// - raw: the built graph without the statistics, its plain forward pass on the ids.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { ModelCache, runInspection } from '../src/engine/inspectApi';
import { LOGIT_ROWS_INPUT, LOGITS_OUTPUT, prepareGgufModel } from '../src/engine/benchInternals';
import { llamaCpp } from '../test/helpers/llamaCpp';

export interface GgufJob {
  readonly mode: 'llamacpp' | 'first' | 'cached' | 'raw';
  readonly file: string;
  readonly cacheDir: string;
  readonly text: string;
  readonly ids: readonly number[];
  readonly rounds: number;
}

export interface GgufReport {
  readonly loadMs: number;
  readonly runMs: number[];
  readonly peakRssBytes: number;
}

async function llamaCppRun(job: GgufJob): Promise<GgufReport> {
  const llama = await llamaCpp();
  const started = performance.now();
  const model = await llama.loadModel({ modelPath: job.file, gpuLayers: 0 });
  const loadMs = performance.now() - started;
  const runMs: number[] = [];
  for (let r = 0; r < job.rounds; r++) {
    const context = await model.createContext({
      contextSize: job.ids.length + 512,
      batchSize: job.ids.length,
      threads: 2,
    });
    const sequence = context.getSequence();
    const t = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(job.ids as never);
    runMs.push(performance.now() - t);
    await context.dispose();
  }
  return { loadMs, runMs, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

async function ours(job: GgufJob): Promise<GgufReport> {
  const cache = new ModelCache({ modelsDir: job.cacheDir, cacheDir: job.cacheDir });
  const started = performance.now();
  const model = await cache.get(job.file, 'cpu', () => undefined);
  const loadMs = performance.now() - started;
  const runMs: number[] = [];
  if (job.mode === 'cached')
    for (let r = 0; r < job.rounds; r++) {
      const t = performance.now();
      let failed: string | null = null;
      await runInspection(
        model,
        {
          requestId: r,
          text: job.text,
          model: job.file,
          provider: 'cpu',
          maxCharacters: 1e7,
          maxTokens: job.ids.length,
          window: 'start',
          rowsOnDemand: true,
        },
        { emit: (e) => (e.kind === 'error' ? (failed = e.message) : undefined) },
        () => false,
      );
      if (failed) throw new Error(failed);
      runMs.push(performance.now() - t);
    }
  await cache.release();
  return { loadMs, runMs, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

async function raw(job: GgufJob): Promise<GgufReport> {
  const prepared = await prepareGgufModel(job.file, job.cacheDir, { statistics: false });
  const started = performance.now();
  const session = await ort.InferenceSession.create(prepared.modelPath, {});
  const loadMs = performance.now() - started;
  const runMs: number[] = [];
  for (let r = 0; r < job.rounds; r++) {
    const t = performance.now();
    await session.run(
      {
        input_ids: new ort.Tensor(
          'int64',
          BigInt64Array.from(job.ids, (v) => BigInt(v)),
          [1, job.ids.length],
        ),
        [LOGIT_ROWS_INPUT]: new ort.Tensor('int64', BigInt64Array.of(1n), [1]),
      },
      [LOGITS_OUTPUT],
    );
    runMs.push(performance.now() - t);
  }
  await session.release();
  return { loadMs, runMs, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
}

async function main(): Promise<void> {
  const job = JSON.parse(readFileSync(process.argv[2], 'utf8')) as GgufJob;
  const report =
    job.mode === 'llamacpp' ? await llamaCppRun(job) : job.mode === 'raw' ? await raw(job) : await ours(job);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
