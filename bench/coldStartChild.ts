// Runs in a fresh child process (node --import tsx): hosts an InspectorWorker the way the extension host
// does, times a cold "Inspect Attention" (worker start and model load included) and a warm one, optionally
// runs a long inspection, and prints one JSON line with the times and the process's memory high-water mark.
import { readFileSync } from 'node:fs';
import { InspectorWorker } from '../src/worker/inspectorWorker';
import { benchRequest } from './benchRequest';

export interface ColdStartJob {
  readonly workerScript: string;
  readonly modelsDir: string;
  readonly cacheDir: string;
  readonly text: string;
  readonly tokens: number;
  /** Optional longer text inspected last, for the memory peak. */
  readonly peakText?: string;
  readonly peakTokens?: number;
}

export interface InspectionTimes {
  readonly startMs: number;
  readonly firstLayerMs: number;
  readonly doneMs: number;
}

export interface ColdStartReport {
  readonly cold: InspectionTimes;
  readonly warm: InspectionTimes;
  /** RSS of this process just before the worker started (Node, tsx and the host side only). */
  readonly baselineRssBytes: number;
  /** getrusage maxrss of this process at the end: the peak over its whole life, worker included. */
  readonly peakRssBytes: number;
}

let requestId = 0;

function timeInspection(worker: InspectorWorker, text: string, tokens: number): Promise<InspectionTimes> {
  const request = benchRequest(++requestId, text, tokens);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let startMs = Number.NaN;
    let firstLayerMs = Number.NaN;
    worker.inspect(request, (event) => {
      if (event.kind === 'header') startMs = performance.now() - started;
      else if (event.kind === 'layer' && Number.isNaN(firstLayerMs)) firstLayerMs = performance.now() - started;
      else if (event.kind === 'summary') resolve({ startMs, firstLayerMs, doneMs: performance.now() - started });
      else if (event.kind === 'error') reject(new Error(event.message));
    });
  });
}

async function main(): Promise<void> {
  const job = JSON.parse(readFileSync(process.argv[2], 'utf8')) as ColdStartJob;
  const baselineRssBytes = process.memoryUsage().rss;
  const worker = new InspectorWorker({
    workerScript: job.workerScript,
    modelsDir: job.modelsDir,
    cacheDir: job.cacheDir,
    idleTimeoutMs: 60_000,
  });
  try {
    const cold = await timeInspection(worker, job.text, job.tokens);
    const warm = await timeInspection(worker, job.text, job.tokens);
    if (job.peakText && job.peakTokens) await timeInspection(worker, job.peakText, job.peakTokens);
    // maxRSS is in kilobytes.
    const report: ColdStartReport = {
      cold,
      warm,
      baselineRssBytes,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    worker.dispose();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
