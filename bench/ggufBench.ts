// The GGUF bench: the Qwen2.5-0.5B-shaped Q4_K_M-mix file (ggufFixture.ts) at 2,048 tokens, ours against
// llama.cpp (node-llama-cpp) on the same file in the same run, each figure from fresh child processes
// (ggufChild.ts): llama.cpp's load and prefill; our first use (graph built into an empty cache), a later
// load, full inspections and their peak RSS, and the plain forward pass of the built graph. Medians.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadGgufTokenizer, readGgufFile } from '../src/engine/benchInternals';
import { runChildJob } from './childJob';
import { textOfTokens } from './engineBench';
import type { GgufJob, GgufReport } from './ggufChild';
import { ggufBenchFixture } from './ggufFixture';

export interface GgufFigures {
  readonly fileBytes: number;
  readonly tokens: number;
  readonly llamaCppLoadMs: number;
  readonly llamaCppPrefillMs: number;
  readonly llamaCppPeakRssBytes: number;
  readonly firstLoadMs: number;
  readonly cachedLoadMs: number;
  readonly inspectMs: number;
  readonly rawMs: number;
  readonly inspectPeakRssBytes: number;
  readonly ratioInspectToLlamaCpp2048: number;
  readonly ratioRawToLlamaCpp2048: number;
  readonly peakRssOverFileMiB: number;
  readonly firstLoadOverLlamaCppLoad: number;
  readonly cachedLoadOverLlamaCppLoad: number;
}

export const GGUF_BUDGETS: Readonly<Record<string, number>> = {
  ratioInspectToLlamaCpp2048: 1.0,
  ratioRawToLlamaCpp2048: 0.8,
  peakRssOverFileMiB: 1024,
  firstLoadOverLlamaCppLoad: 10,
  cachedLoadOverLlamaCppLoad: 2,
};

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2
    ? sorted[sorted.length >> 1]
    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};

function runChild(root: string, job: GgufJob, dir: string): Promise<GgufReport> {
  const jobFile = path.join(dir, `job-${job.mode}.json`);
  return runChildJob<GgufReport>(
    root,
    { script: 'ggufChild.ts', jobFile, timeoutMs: 900_000, label: `gguf ${job.mode}` },
    job,
  );
}

export async function runGgufBench(options: {
  root: string;
  tokens: number;
  rounds: number;
  log: (line: string) => void;
}): Promise<GgufFigures> {
  const { root, log } = options;
  const file = await ggufBenchFixture(root, log);
  const gguf = await readGgufFile(file);
  const tokenizer = loadGgufTokenizer(gguf.metadata, file);
  const text = textOfTokens(tokenizer, root, options.tokens);
  const ids = tokenizer.tokenize(text).ids.slice(0, options.tokens);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pa-gguf-bench-'));
  try {
    const job = (mode: GgufJob['mode'], cacheDir = path.join(dir, 'cache')): GgufJob => ({
      mode,
      file,
      cacheDir,
      text,
      ids,
      rounds: options.rounds,
    });
    const llama = await runChild(root, job('llamacpp'), dir);
    log(
      `gguf: llama.cpp load ${llama.loadMs.toFixed(0)} ms, prefill ${llama.runMs.map((m) => m.toFixed(0)).join(', ')} ms`,
    );
    const first = await runChild(root, { ...job('first'), rounds: 0 }, dir);
    log(`gguf: first use (build + cache + session) ${first.loadMs.toFixed(0)} ms`);
    const cached = await runChild(root, job('cached'), dir);
    log(
      `gguf: cached load ${cached.loadMs.toFixed(0)} ms, inspections ${cached.runMs.map((m) => m.toFixed(0)).join(', ')} ms`,
    );
    const raw = await runChild(root, job('raw'), dir);
    log(`gguf: raw forward ${raw.runMs.map((m) => m.toFixed(0)).join(', ')} ms`);
    const fileBytes = statSync(file).size;
    const prefill = median(llama.runMs);
    const inspectMs = median(cached.runMs);
    const rawMs = median(raw.runMs);
    const round = (v: number, digits = 3): number => Number(v.toFixed(digits));
    return {
      fileBytes,
      tokens: ids.length,
      llamaCppLoadMs: round(llama.loadMs, 0),
      llamaCppPrefillMs: round(prefill, 0),
      llamaCppPeakRssBytes: llama.peakRssBytes,
      firstLoadMs: round(first.loadMs, 0),
      cachedLoadMs: round(cached.loadMs, 0),
      inspectMs: round(inspectMs, 0),
      rawMs: round(rawMs, 0),
      inspectPeakRssBytes: cached.peakRssBytes,
      ratioInspectToLlamaCpp2048: round(inspectMs / prefill),
      ratioRawToLlamaCpp2048: round(rawMs / prefill),
      peakRssOverFileMiB: round((cached.peakRssBytes - fileBytes) / 2 ** 20, 0),
      firstLoadOverLlamaCppLoad: round(first.loadMs / llama.loadMs, 2),
      cachedLoadOverLlamaCppLoad: round(cached.loadMs / llama.loadMs, 2),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The section of results.md. */
export function renderGgufMarkdown(f: GgufFigures): string {
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  const rows = Object.entries(GGUF_BUDGETS).map(([key, limit]) => {
    const value = f[key as keyof GgufFigures];
    return `| gguf.${key} | ${value} | ≤ ${limit} | ${value <= limit ? 'met' : 'NOT met'} |`;
  });
  return [
    '',
    '## GGUF against llama.cpp',
    '',
    `Qwen2.5-0.5B-shaped file, Q4_K_M mix, random weights, ${mib(f.fileBytes)}; ${f.tokens} tokens. llama.cpp (node-llama-cpp, CPU, 2 threads): load ${f.llamaCppLoadMs} ms, prefill ${f.llamaCppPrefillMs} ms, peak RSS ${mib(f.llamaCppPeakRssBytes)}. Ours: first use ${f.firstLoadMs} ms (graph built and cached), later load ${f.cachedLoadMs} ms, full inspection ${f.inspectMs} ms (peak RSS ${mib(f.inspectPeakRssBytes)}), plain forward pass of the built graph ${f.rawMs} ms. Medians of fresh child processes.`,
    '',
    '| key | value | budget | |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
