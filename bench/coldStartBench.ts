// Cold start: each sample is a fresh child process hosting a fresh InspectorWorker, so nothing (module
// cache, sessions, induction probe) is warm except the OS file cache. "cached" runs find the tapped graph
// in the tap cache (every start after the first one ever); "first-ever" runs start with an empty cache and
// pay the graph surgery too. The memory peak comes from the first cached child, which also runs the
// longest inspection.
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runChildJob } from './childJob';
import type { ColdStartJob, ColdStartReport, InspectionTimes } from './coldStartChild';
import { median } from './stats';

export interface ColdStartOptions {
  readonly root: string;
  readonly workerScript: string;
  readonly cacheDir: string;
  readonly text: string;
  readonly tokens: number;
  readonly peakText: string;
  readonly peakTokens: number;
  readonly samples: number;
  readonly log: (line: string) => void;
}

export interface ColdStartFigures {
  readonly tokens: number;
  readonly samples: number;
  /** Medians over the cached samples. */
  readonly cold: InspectionTimes;
  readonly warm: InspectionTimes;
  /** One sample with an empty tap cache (graph surgery included). */
  readonly firstEver: InspectionTimes;
  readonly peakTokens: number;
  readonly baselineRssBytes: number;
  readonly peakRssBytes: number;
  /** peakRss - baselineRss: what the worker thread added to the host process at its peak. */
  readonly workerPeakBytes: number;
}

function runChild(root: string, job: ColdStartJob, dir: string, index: number): Promise<ColdStartReport> {
  const jobFile = path.join(dir, `job-${index}.json`);
  const child = { script: 'coldStartChild.ts', jobFile, timeoutMs: 300_000, label: 'cold-start' };
  return runChildJob<ColdStartReport>(root, child, job);
}

const medianTimes = (all: readonly InspectionTimes[]): InspectionTimes => ({
  startMs: median(all.map((t) => t.startMs)),
  firstLayerMs: median(all.map((t) => t.firstLayerMs)),
  doneMs: median(all.map((t) => t.doneMs)),
});

export async function runColdStartBench(options: ColdStartOptions): Promise<ColdStartFigures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-bench-cold-'));
  try {
    const modelsDir = path.join(options.root, 'models');
    const base = { workerScript: options.workerScript, modelsDir, text: options.text, tokens: options.tokens };
    const firstEver = await runChild(options.root, { ...base, cacheDir: path.join(dir, 'empty-cache') }, dir, 0);
    options.log(
      `cold start, empty tap cache: first tokens ${firstEver.cold.startMs.toFixed(0)} ms, first layer ${firstEver.cold.firstLayerMs.toFixed(0)} ms`,
    );
    const cached: ColdStartReport[] = [];
    for (let i = 0; i < options.samples; i++) {
      const peak = i === 0 ? { peakText: options.peakText, peakTokens: options.peakTokens } : {};
      const report = await runChild(options.root, { ...base, ...peak, cacheDir: options.cacheDir }, dir, i + 1);
      cached.push(report);
      options.log(
        `cold start ${i + 1}/${options.samples}: first tokens ${report.cold.startMs.toFixed(0)} ms, first layer ${report.cold.firstLayerMs.toFixed(0)} ms, warm first layer ${report.warm.firstLayerMs.toFixed(0)} ms`,
      );
    }
    const peakRun = cached[0];
    return {
      tokens: options.tokens,
      samples: cached.length,
      cold: medianTimes(cached.map((r) => r.cold)),
      warm: medianTimes(cached.map((r) => r.warm)),
      firstEver: firstEver.cold,
      peakTokens: options.peakTokens,
      baselineRssBytes: peakRun.baselineRssBytes,
      peakRssBytes: peakRun.peakRssBytes,
      workerPeakBytes: peakRun.peakRssBytes - peakRun.baselineRssBytes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
