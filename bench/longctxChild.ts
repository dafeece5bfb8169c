// Runs in a fresh child process (node --import tsx) for the long-context benchmark, one job per process, and
// prints one JSON line:
// - 'gguf': writes the same-shape GGUF for llama.cpp (once; its weights are kept out of the others' RSS);
// - 'llama': llama.cpp (node-llama-cpp, CPU, 2 threads, flash attention as its default) prefills the tokens;
//   wall time and the process's peak RSS;
// - 'inspect': the engine inspects the q4 fixture with rows on demand: wall time, tokens inspected, peak RSS,
//   what the panel receives before any hover, and the time to answer hovered rows (late tokens, the head
//   mean or one head, random layers) from the kept Q and K, through the worker's own path (hoverPath.ts);
// - 'prepare-gguf', 'inspect-gguf': the same inspection of the GGUF file llama.cpp runs (its graph built and
//   cached by the first, so the second measures a later load's inspection);
// - 'hover': that hover part alone, on random Q and K of the same shape and length (no inspection first:
//   `node --import tsx bench/longctxChild.ts --hover [tokens] [hovers] [js]`, js = the plain loops).
import { readFileSync, writeFileSync } from 'node:fs';
import type { InspectionEvent, InspectionResult, LayerAttention } from '../src/shared/protocol';
import type { InspectRequest } from '../src/engine/inspectApi';
import { runInspection } from '../src/engine/inspectApi';
import { ExactRows, LoadedModel } from '../src/engine/benchInternals';
import { shapeRows, timeHovers } from './hoverPath';
import { quantile } from './stats';
import { buildGgufFixture } from '../test/helpers/ggufFixtures';
import { llamaCpp } from '../test/helpers/llamaCpp';
import { seededRandom } from '../test/helpers/onnxBuilder';
import { panelPayloadSize } from './payload';
import { REALSIZE_SHAPE } from './realSizeFixture';

export interface LongctxJob {
  readonly mode: 'gguf' | 'llama' | 'inspect' | 'prepare-gguf' | 'inspect-gguf' | 'hover';
  readonly folder: string;
  readonly cacheDir: string;
  readonly ggufFile: string;
  readonly text: string;
  readonly tokens: number;
  readonly hovers: number;
}

export interface LongctxReport {
  readonly peakRssBytes: number;
  readonly ms?: number;
  readonly tokensInspected?: number;
  readonly notes?: readonly string[];
  readonly payloadBytes?: number;
  readonly hoverMs?: readonly number[];
  readonly keptBytes?: number;
}

const peak = (): number => process.resourceUsage().maxRSS * 1024;
const GGUF_VOCAB = 960;

function writeGguf(job: LongctxJob): LongctxReport {
  const s = REALSIZE_SHAPE;
  // Q5_0 and a Q8_0 tied embedding: what llama.cpp's Q4_K_M rules give this shape (rows of 896 are no
  // multiple of 256, so no K-quants; /work/shared/notes/gguf.md).
  const fixture = buildGgufFixture({
    arch: 'qwen2',
    type: 'Q5_0',
    embedType: 'Q8_0',
    tied: true,
    // The test writer's vocabulary has ~960 distinct tokens; prefill computes no logits but the last, so the
    // vocabulary's size does not weigh on the comparison.
    shape: { ...s, vocab: GGUF_VOCAB, context: s.maxPositions },
    seed: 11,
  });
  writeFileSync(job.ggufFile, fixture.bytes);
  return { peakRssBytes: peak() };
}

async function llamaPrefill(job: LongctxJob): Promise<LongctxReport> {
  const llama = await llamaCpp();
  const model = await llama.loadModel({ modelPath: job.ggufFile, gpuLayers: 0 });
  const random = seededRandom(3);
  const ids = Array.from({ length: job.tokens }, () => 3 + Math.floor(random() * (GGUF_VOCAB - 3)));
  // Headroom over the prompt: a context of exactly its length makes node-llama-cpp shift the context.
  const context = await model.createContext({ contextSize: job.tokens + 256, batchSize: 2048, threads: 2 });
  const started = performance.now();
  await context.getSequence().evaluateWithoutGeneratingNewTokens(ids as never[]);
  const ms = performance.now() - started;
  await context.dispose();
  await model.dispose();
  return { peakRssBytes: peak(), ms };
}

/** The engine's model: the q4 ONNX fixture, or the GGUF file llama.cpp runs (its graph built by
 * 'prepare-gguf' in a child of its own, so the measured one loads it from the cache). */
function loadModel(job: LongctxJob): Promise<LoadedModel> {
  const options = { id: 'longctx', cacheDir: job.cacheDir, provider: 'cpu' as const };
  return job.mode === 'inspect'
    ? LoadedModel.load(job.folder, { ...options, dtype: 'q4' })
    : LoadedModel.loadGguf(job.ggufFile, options);
}

async function inspect(job: LongctxJob): Promise<LongctxReport> {
  const model = await loadModel(job);
  if (job.mode === 'prepare-gguf') return { peakRssBytes: peak() };
  const request: InspectRequest = {
    requestId: 1,
    text: job.text,
    model: '',
    provider: 'cpu',
    maxCharacters: 100_000_000,
    maxTokens: job.tokens,
    window: 'start',
    rowsOnDemand: true,
  };
  const layers: LayerAttention[] = [];
  let header: InspectionResult | null = null;
  let summary: InspectionResult['summary'] | null = null;
  let exact: ExactRows | null = null;
  const started = performance.now();
  await runInspection(
    model,
    request,
    {
      emit: (event: InspectionEvent) => {
        if (event.kind === 'header') header = { ...event.header } as InspectionResult;
        if (event.kind === 'layer') layers.push(event.layer);
        if (event.kind === 'summary') summary = event.summary;
      },
      onExactRows: (rows) => (exact = rows instanceof ExactRows ? rows : null),
    },
    () => false,
  );
  const ms = performance.now() - started;
  const h = header as InspectionResult | null;
  const s = summary as InspectionResult['summary'] | null;
  if (!h || !s) throw new Error('the inspection produced no result');
  const result: InspectionResult = { ...h, source: { label: 'long-context bench', offset: 0 }, layers, summary: s };
  const rows = exact as ExactRows | null;
  const hoverMs = rows ? await timeHovers(rows, job.hovers) : [];
  return {
    peakRssBytes: peak(),
    ms,
    tokensInspected: h.tokens.length,
    notes: s.notes,
    payloadBytes: panelPayloadSize(result).totalBytes,
    hoverMs,
    keptBytes: rows?.bytes ?? 0,
  };
}

async function hoverOnly(tokens: number, hovers: number, kernel: boolean): Promise<LongctxReport> {
  const rows = shapeRows(tokens, kernel);
  return { peakRssBytes: peak(), hoverMs: await timeHovers(rows, hovers), keptBytes: rows.bytes };
}

async function main(): Promise<LongctxReport> {
  if (process.argv[2] === '--hover') {
    const [tokens = '8192', hovers = '200', path = 'kernel'] = process.argv.slice(3);
    const report = await hoverOnly(Number(tokens), Number(hovers), path !== 'js');
    const ms = report.hoverMs ?? [];
    process.stderr.write(
      `${tokens} tokens, ${ms.length} hovers (${path === 'js' ? 'plain loops' : 'row kernel'}): hover p50 ` +
        `${quantile(ms, 0.5).toFixed(2)} ms, p95 ${quantile(ms, 0.95).toFixed(2)} ms (the longctx.hoverP95Ms path)\n`,
    );
    return report;
  }
  const job = JSON.parse(readFileSync(process.argv[2], 'utf8')) as LongctxJob;
  if (job.mode === 'hover') return hoverOnly(job.tokens, job.hovers, true);
  if (job.mode === 'gguf') return writeGguf(job);
  if (job.mode === 'llama') return llamaPrefill(job);
  return inspect(job); // 'inspect', 'prepare-gguf', 'inspect-gguf'
}

main().then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
