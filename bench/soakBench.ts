// Soak: one worker, many inspections of mixed lengths (the extension's life between two idle releases),
// in a process of its own (runSoakInChild).
// It records the process RSS (the worker thread lives in this process) at the start (after a warm-up
// inspection at the longest length, model loaded), its peak (sampled after every inspection) and at the
// end, with soak.rssGrowthMiB = end - start; and the p95 time per inspection over the soak against the
// same lengths, each in a fresh worker (model loaded by a short warm-up, so only the inspection is timed).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InspectorWorker } from '../src/worker/inspectorWorker';
import { quantile, round, seededRandom } from './stats';
import { benchRequest } from './benchRequest';

export interface SoakOptions {
  readonly workerScript: string;
  readonly modelsDir: string;
  readonly cacheDir: string;
  /** A text of at least `maxTokens` tokens; each inspection keeps its first n (maxTokens = n). */
  readonly text: string;
  readonly inspections: number;
  readonly minTokens: number;
  readonly maxTokens: number;
  /** How many of the soak's lengths are measured again in a fresh worker. */
  readonly freshSamples: number;
  readonly log: (line: string) => void;
}

/** The soak's options as a child process reads them (no log function). */
export type SoakJob = Omit<SoakOptions, 'log'>;

/** Runs the soak in a fresh process (soakChild.ts, with --expose-gc); its progress lines go to `log`. */
export function runSoakInChild(root: string, options: SoakOptions): Promise<SoakResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-bench-soak-'));
  const jobFile = path.join(dir, 'job.json');
  const { log, ...job } = options;
  writeFileSync(jobFile, JSON.stringify(job));
  return new Promise<SoakResult>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', path.join(root, 'bench', 'soakChild.ts'), jobFile],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let lastError = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lastError = line;
        log(line);
      }
    });
    child.on('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`soak child failed: ${lastError || `exit ${code}`}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as SoakResult);
      } catch {
        reject(new Error(`soak child printed no result: ${stdout.slice(0, 200)}`));
      }
    });
  });
}

export interface SoakResult {
  readonly inspections: number;
  readonly minTokens: number;
  readonly maxTokens: number;
  readonly rssStartMiB: number;
  readonly rssPeakMiB: number;
  readonly rssEndMiB: number;
  readonly rssGrowthMiB: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  /** The soak's own times at the lengths that were also measured fresh. */
  readonly matchedP95Ms: number;
  readonly freshP95Ms: number;
  readonly freshSamples: number;
  /** matchedP95Ms / freshP95Ms: above 1 means inspections slow down over a long-lived worker. */
  readonly p95VsFresh: number;
}

const MiB = 1024 * 1024;

function timed(worker: InspectorWorker, text: string, tokens: number, id: number): Promise<number> {
  const request = benchRequest(id, text, tokens);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    worker.inspect(request, (event) => {
      if (event.kind === 'summary') resolve(performance.now() - started);
      else if (event.kind === 'error') reject(new Error(event.message));
    });
  });
}

function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

export async function runSoakBench(options: SoakOptions): Promise<SoakResult> {
  const random = seededRandom(0x50a4);
  const lengths = Array.from(
    { length: options.inspections },
    () => options.minTokens + Math.floor(random() * (options.maxTokens - options.minTokens + 1)),
  );
  const make = (): InspectorWorker =>
    new InspectorWorker({
      workerScript: options.workerScript,
      modelsDir: options.modelsDir,
      cacheDir: path.resolve(options.cacheDir),
      idleTimeoutMs: 600_000,
    });
  let id = 0;
  const worker = make();
  const times: number[] = [];
  let start: number;
  let peak: number;
  let end: number;
  try {
    // Warm up at the longest length: onnxruntime sizes its buffers once for the largest input, which is not growth.
    await timed(worker, options.text, options.maxTokens, ++id);
    start = rss();
    peak = start;
    for (let i = 0; i < lengths.length; i++) {
      times.push(await timed(worker, options.text, lengths[i], ++id));
      peak = Math.max(peak, process.memoryUsage().rss);
      if ((i + 1) % 50 === 0)
        options.log(
          `soak: ${i + 1}/${lengths.length} inspections, RSS ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB`,
        );
    }
    // End: the worker still alive and warm, after it has had a moment to settle.
    await new Promise((resolve) => setTimeout(resolve, 500));
    end = rss();
  } finally {
    worker.dispose();
  }
  // Sampled after each inspection (getrusage's peak would include the fresh workers' loads below).
  peak = Math.max(peak, end);

  const step = Math.max(1, Math.floor(lengths.length / options.freshSamples));
  const picked = lengths
    .map((n, i) => ({ n, i }))
    .filter((_, i) => i % step === 0)
    .slice(0, options.freshSamples);
  const fresh: number[] = [];
  for (const { n } of picked) {
    const once = make();
    try {
      await timed(once, options.text, 16, ++id);
      fresh.push(await timed(once, options.text, n, ++id));
    } finally {
      once.dispose();
    }
  }
  const matched = picked.map(({ i }) => times[i]);
  const result: SoakResult = {
    inspections: lengths.length,
    minTokens: options.minTokens,
    maxTokens: options.maxTokens,
    rssStartMiB: round(start / MiB, 1),
    rssPeakMiB: round(peak / MiB, 1),
    rssEndMiB: round(end / MiB, 1),
    rssGrowthMiB: round((end - start) / MiB, 1),
    p50Ms: round(quantile(times, 0.5), 1),
    p95Ms: round(quantile(times, 0.95), 1),
    matchedP95Ms: round(quantile(matched, 0.95), 1),
    freshP95Ms: round(quantile(fresh, 0.95), 1),
    freshSamples: fresh.length,
    p95VsFresh: round(quantile(matched, 0.95) / quantile(fresh, 0.95), 3),
  };
  options.log(
    `soak: RSS ${result.rssStartMiB} → peak ${result.rssPeakMiB} → end ${result.rssEndMiB} MiB (growth ${result.rssGrowthMiB}, limit 64); p95 ${result.p95Ms} ms, matched ${result.matchedP95Ms} vs fresh ${result.freshP95Ms} ms`,
  );
  return result;
}

export function renderSoakMarkdown(soak: SoakResult): string {
  return [
    '',
    `## Soak (${soak.inspections} inspections, ${soak.minTokens}–${soak.maxTokens} tokens, one worker)`,
    '',
    '| RSS start | peak | end | soak.rssGrowthMiB (≤ 64) | p50 | p95 | p95 at the fresh lengths | fresh p95 | ratio |',
    '|---|---|---|---|---|---|---|---|---|',
    `| ${soak.rssStartMiB} MiB | ${soak.rssPeakMiB} MiB | ${soak.rssEndMiB} MiB | ${soak.rssGrowthMiB} MiB (${soak.rssGrowthMiB <= 64 ? 'met' : 'NOT met'}) | ${soak.p50Ms} ms | ${soak.p95Ms} ms | ${soak.matchedP95Ms} ms | ${soak.freshP95Ms} ms (${soak.freshSamples} fresh workers) | ${soak.p95VsFresh}× |`,
    '',
  ].join('\n');
}
