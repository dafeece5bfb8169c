// The benchmark suite: `npm run bench` (full, writes bench/results.json and bench/results.md) or
// `npm run bench:tiny` / `--tiny` (smoke sizes, writes to .cache/bench-tiny/ unless --out says otherwise).
// Options: --tiny, --out <dir>, --only engine,cold,webview,cost,soak,explain,realsize,gguf,generate,answer,
// --lengths 512,2048 and --runs 3 (debugging). Budgets are printed, never enforced: the exit code is non-zero only
// when a section could not run.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelTokenizer } from '../src/engine/benchInternals';
import { buildBenchBundles } from './bundles';
import { runColdStartBench, type ColdStartFigures } from './coldStartBench';
import { runCostBench, type CostBenchResult } from './costBench';
import { renderSoakMarkdown, runSoakInChild, type SoakResult } from './soakBench';
import { runRealSizeBench, type RealSizeFigures } from './realSizeBench';
import { longctxBudgets, runLongctxBench, type LongctxFigures } from './longctxBench';
import { runGpuBench, type GpuFigures } from './gpuBench';
import { runEngineBench, textOfTokens, type EngineBenchResult } from './engineBench';
import { EXPLAIN_BUDGET, renderExplainMarkdown, runExplainBench, type ExplainBenchResult } from './explainBench';
import { renderGenerateMarkdown, runGenerateBench, type GenerateBenchResult } from './generateBench';
import { inspectionOf, runAnswerHoverBench, type AnswerHoverBenchResult } from './answerHoverBench';
import { GGUF_BUDGETS, renderGgufMarkdown, runGgufBench, type GgufFigures } from './ggufBench';
import { machineInfo } from './machine';
import { buildResults, renderMarkdown, type BenchMeta } from './results';
import { CHROMIUM } from '../test/browser/browserLaunch';
import { runWebviewBench, type WebviewBenchResult } from './webviewBench';

const ROOT = path.resolve(__dirname, '..');
const SECTIONS = [
  'engine',
  'cold',
  'webview',
  'cost',
  'soak',
  'explain',
  'realsize',
  'gguf',
  'generate',
  'answer',
  'longctx',
  'gpu',
] as const;
type Section = (typeof SECTIONS)[number];

interface Args {
  readonly tiny: boolean;
  readonly out: string;
  readonly only: ReadonlySet<Section>;
  /** Debugging aid: other engine/webview lengths (results then go to .cache/bench-custom/ by default). */
  readonly lengths: readonly number[] | null;
  /** Debugging aid: engine runs per length (the issue asks for at least 10). */
  readonly runs: number | null;
}

function parseArgs(argv: readonly string[]): Args {
  let tiny = process.env.BENCH_TINY === '1';
  let out: string | null = null;
  let only = new Set<Section>(SECTIONS);
  let lengths: number[] | null = null;
  let runs: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--tiny') tiny = true;
    else if (arg === '--out' && argv[i + 1]) out = path.resolve(argv[++i]);
    else if (arg === '--lengths' && argv[i + 1]) {
      lengths = argv[++i].split(',').map(Number);
      if (lengths.some((n) => !Number.isInteger(n) || n < 2))
        throw new Error('--lengths takes token counts, e.g. --lengths 512,2048');
    } else if (arg === '--runs' && argv[i + 1]) {
      runs = Number(argv[++i]);
      if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
    } else if (arg === '--only' && argv[i + 1]) {
      const names = argv[++i].split(',');
      const bad = names.find((n) => !(SECTIONS as readonly string[]).includes(n));
      if (bad) throw new Error(`--only: unknown section "${bad}" (expected ${SECTIONS.join(', ')})`);
      only = new Set(names as Section[]);
    } else
      throw new Error(
        `unknown argument "${arg}" (expected --tiny, --out <dir>, --lengths <n,...>, --runs <n>, --only ${SECTIONS.join(',')})`,
      );
  }
  const scratch = tiny ? 'bench-tiny' : 'bench-custom';
  return {
    tiny,
    out: out ?? (tiny || lengths || runs ? path.join(ROOT, '.cache', scratch) : path.join(ROOT, 'bench')),
    only,
    lengths,
    runs,
  };
}

const NOTES = [
  'Times are wall-clock medians (engine: ≥10 runs after a warm-up, raw/tapped/full interleaved per round) taken with performance.now(); sizes are bytes.',
  "Raw run: session.run of the original models/<model>/onnx/model.onnx (logits out). Tapped run: session.run of the graph the engine taps (attention probabilities plus in-graph received/rollout out, pruned after the last attention, so it skips the LM head). Full: the worker's runInspection (tokenize → induction probe (cached) → run → statistics → compact layer messages → summary), in process.",
  'Cold start: a fresh Node process hosts a fresh InspectorWorker (src/worker/inspectorWorker.ts) and calls inspect(); "first tokens" is onStart (the header with the tokens), "first layer" the first onLayer. Worker peak memory: the process\'s getrusage maxrss at the end minus its RSS just before the worker started.',
  'Payload: the panel messages of one inspection (typed arrays counted as bytes, the rest as JSON) against JSON.stringify of the dense float32 attention [layer][head][query][key], counted number by number without building the string.',
  "Webview: the real webview bundle in Chromium (playwright-core), with a stub acquireVsCodeApi, fed a real inspection as host messages (postMessage with transferred buffers). Timed in the page: from posting the messages to the end of the main-thread work (rAF callbacks, style, layout) of the first frame showing the tokens; hover = pointerover handler + that frame's rAF, style and layout work; the wait for the next vsync (0–16.7 ms at 60 Hz) is not counted.",
  "Live cost: throughput counts the corpus in the editor's chunks without the count cache, on the bench's thread. A keystroke runs the extension's whole debounced update as if each keystroke triggered it (the debounce delay not counted): the host sends the edit to the real tokenizer worker (incremental count, diagnostics, section CodeLens) and computes the cost figures and the status bar from its reply. \"Update\" is edit → updated figures on the host, worker round trip included; cost.keystrokeP95Ms100KB is its p95 for the worst tokenizer. \"Host block\" is the host thread's busy time in that update (event-loop utilization), recorded as cost.hostBlockP95Ms100KB (worst tokenizer). VS Code's own work is not counted.",
];

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const loadAtStart = os.loadavg()[0];
  const log = (line: string): void => console.log(line);
  const errors: string[] = [];
  const sectionSeconds: Partial<Record<Section, number>> = {};
  const notes = [...NOTES];
  const tiny = args.tiny;
  const lengths = args.lengths ?? (tiny ? [32, 64] : [128, 512, 1024, 2048]);
  const pick = (wanted: number, fallback: number): number => (lengths.includes(wanted) ? wanted : fallback);
  const for512 = pick(512, Math.min(...lengths));
  const for2048 = pick(2048, Math.max(...lengths));
  const modelFolder = path.join(ROOT, 'models', 'pa-mini-llama');
  const cacheDir = path.join(ROOT, '.cache', 'bench-cache');
  const attempt = async <T>(section: Section, run: () => Promise<T>): Promise<T | null> => {
    if (!args.only.has(section)) return null;
    const sectionStarted = performance.now();
    try {
      return await run();
    } catch (error) {
      const message = `${section}: ${error instanceof Error ? error.message : String(error)}`;
      errors.push(message);
      console.error(`benchmark section failed: ${message}`);
      return null;
    } finally {
      sectionSeconds[section] = (sectionSeconds[section] ?? 0) + (performance.now() - sectionStarted) / 1000;
    }
  };

  log(
    `Prompt Attention benchmarks${tiny ? ' (tiny)' : ''}: ${os.cpus()[0]?.model ?? 'CPU'}, ${os.availableParallelism()} cores, Node ${process.version}`,
  );
  const bundles = await buildBenchBundles(ROOT, tiny ? 'bench-build-tiny' : 'bench-build');

  let engine: EngineBenchResult | null = null;
  if (args.only.has('engine') || args.only.has('webview')) {
    engine = await attempt(args.only.has('engine') ? 'engine' : 'webview', () =>
      runEngineBench({
        root: ROOT,
        modelFolder,
        cacheDir,
        lengths,
        runs: args.runs ?? (tiny ? 1 : 10),
        warmups: tiny ? 1 : 2,
        keepResults: [for512, for2048],
        log,
      }),
    );
  }
  const coldStart: ColdStartFigures | null = await attempt('cold', async () => {
    const tokenizer = await ModelTokenizer.load(modelFolder);
    const coldTokens = tiny ? 32 : 512;
    const peakTokens = tiny ? 64 : 2048;
    return runColdStartBench({
      root: ROOT,
      workerScript: bundles.workerJs,
      cacheDir,
      text: textOfTokens(tokenizer, ROOT, coldTokens),
      tokens: coldTokens,
      peakText: textOfTokens(tokenizer, ROOT, peakTokens),
      peakTokens,
      samples: tiny ? 1 : 3,
      log,
    });
  });
  let webview: WebviewBenchResult | null = null;
  if (args.only.has('webview')) {
    if (!existsSync(CHROMIUM)) notes.push(`Webview skipped: ${CHROMIUM} is not installed.`);
    else if (engine) {
      const results = engine.results;
      webview = await attempt('webview', () =>
        runWebviewBench({ root: ROOT, bundles, results, loads: tiny ? 1 : 3, hovers: tiny ? 20 : 300, tiny, log }),
      );
    }
  }
  const cost: CostBenchResult | null = await attempt('cost', () =>
    runCostBench({
      root: ROOT,
      tokenizerWorkerJs: bundles.tokenizerWorkerJs,
      corpusBytes: tiny ? 50_000 : 1_000_000,
      throughputRuns: tiny ? 1 : 3,
      promptBytes: 100_000,
      keystrokes: tiny ? 10 : 300,
      log,
    }),
  );

  const soak: SoakResult | null = await attempt('soak', async () =>
    runSoakInChild(ROOT, {
      workerScript: bundles.workerJs,
      modelsDir: path.join(ROOT, 'models'),
      cacheDir,
      text: textOfTokens(await ModelTokenizer.load(modelFolder), ROOT, tiny ? 64 : 2048),
      inspections: tiny ? 10 : 200,
      minTokens: tiny ? 32 : 100,
      maxTokens: tiny ? 64 : 2048,
      freshSamples: tiny ? 2 : 20,
      log,
    }),
  );

  const explain: ExplainBenchResult | null = await attempt('explain', () =>
    runExplainBench({
      root: ROOT,
      modelFolder,
      cacheDir,
      tokens: tiny ? 128 : 512,
      sections: 8,
      runs: tiny ? 1 : 5,
      log,
    }),
  );

  const generate: GenerateBenchResult | null = await attempt('generate', () =>
    runGenerateBench({ root: ROOT, promptTokens: tiny ? 128 : 1024, tokens: tiny ? 8 : 64, rounds: tiny ? 1 : 5, log }),
  );

  const answer: AnswerHoverBenchResult | null = await attempt('answer', async () =>
    runAnswerHoverBench({
      root: ROOT,
      bundles,
      result: engine?.results.get(for2048) ?? (await inspectionOf(ROOT, modelFolder, cacheDir, tiny ? 256 : 2048)),
      answerTokens: tiny ? 16 : 128,
      hovers: tiny ? 20 : 300,
      log,
    }),
  );

  // The 0.5B-shaped fixture (built once into .cache/); not in tiny mode unless asked for by --only.
  const realsize: RealSizeFigures | null =
    tiny && args.only.size === SECTIONS.length
      ? null
      : await attempt('realsize', () =>
          runRealSizeBench({ root: ROOT, tokens: tiny ? 128 : 2048, rounds: tiny ? 1 : 3, loads: tiny ? 1 : 2, log }),
        );

  // The GGUF file against llama.cpp (fixture built once into .cache/); like realsize, not in tiny mode unless asked.
  const gguf: GgufFigures | null =
    tiny && args.only.size === SECTIONS.length
      ? null
      : await attempt('gguf', () => runGgufBench({ root: ROOT, tokens: tiny ? 128 : 2048, rounds: tiny ? 1 : 3, log }));

  // 8,192 tokens of the 0.5B q4 shape against llama.cpp: minutes on 2 cores; not in tiny mode unless asked for.
  const longctx: LongctxFigures | null =
    tiny && args.only.size === SECTIONS.length
      ? null
      : await attempt('longctx', () => runLongctxBench({ root: ROOT, tokens: tiny ? 512 : 8192, hovers: 200, log }));

  // Only when asked for (--only gpu, on a machine with a GPU): onnxruntime webgpu and llama.cpp's CUDA build.
  const gpu: GpuFigures | null =
    args.only.has('gpu') && args.only.size < SECTIONS.length
      ? await attempt('gpu', () => runGpuBench(ROOT, log))
      : null;

  const meta: BenchMeta = {
    date: new Date().toISOString(),
    command: tiny ? 'npm run bench:tiny' : 'npm run bench',
    tiny,
    durationS: (performance.now() - started) / 1000,
    machine: machineInfo(ROOT),
    lengthFor512: for512,
    lengthFor2048: for2048,
    sectionSeconds,
    loadAverage: { start: loadAtStart, end: os.loadavg()[0] },
    notes,
    errors,
  };
  const sections = { engine: args.only.has('engine') ? engine : null, coldStart, webview, cost, realsize };
  const { json, budgets } = buildResults(meta, sections);
  mkdirSync(args.out, { recursive: true });
  writeFileSync(
    path.join(args.out, 'results.json'),
    `${JSON.stringify({ ...json, ...(soak ? { soak } : {}), ...(explain ? { explain } : {}), ...(gguf ? { gguf } : {}), ...(generate ? { generate } : {}), ...(answer ? { answer } : {}), ...(longctx ? { longctx } : {}), ...(gpu ? { gpu } : {}) }, null, 2)}\n`,
  );
  writeFileSync(
    path.join(args.out, 'results.md'),
    renderMarkdown(meta, sections, budgets) +
      (soak ? renderSoakMarkdown(soak) : '') +
      (explain ? renderExplainMarkdown(explain) : '') +
      (gguf ? renderGgufMarkdown(gguf) : '') +
      (generate ? renderGenerateMarkdown(generate) : ''),
  );
  log('');
  for (const b of budgets) {
    const verdict = b.met === null ? 'not measured' : b.met ? 'met' : 'NOT met';
    log(`budget ${b.key}: ${b.value ?? 'n/a'} (limit ${b.limit} ${b.unit}) — ${verdict}`);
  }
  if (answer)
    log(
      `budget answer.hoverP95Ms: ${answer.hoverP95Ms} (limit 16 ms) — ${answer.hoverP95Ms <= 16 ? 'met' : 'NOT met'}`,
    );
  if (generate)
    log(
      `budget generate.ratioPerTokenToPlainDecode: ${generate.ratioPerTokenToPlainDecode} (limit 1.3 ×) — ${generate.ratioPerTokenToPlainDecode <= 1.3 ? 'met' : 'NOT met'}`,
    );
  if (gguf)
    for (const [key, limit] of Object.entries(GGUF_BUDGETS)) {
      const value = gguf[key as keyof GgufFigures];
      log(`budget gguf.${key}: ${value} (limit ${limit}) — ${value <= limit ? 'met' : 'NOT met'}`);
    }
  for (const [key, value, limit, unit, met] of longctx ? longctxBudgets(longctx) : [])
    log(`budget ${key}: ${Number(value.toFixed(3))} (limit ${limit} ${unit}) — ${met ? 'met' : 'NOT met'}`);
  if (explain)
    log(
      `budget explain.ratioToRaw512x8: ${explain.ratioToRaw512x8} (limit ${EXPLAIN_BUDGET} ×) — ${explain.ratioToRaw512x8 <= EXPLAIN_BUDGET ? 'met' : 'NOT met'}`,
    );
  log(
    `sections: ${Object.entries(sectionSeconds)
      .map(([name, seconds]) => `${name} ${seconds.toFixed(0)} s`)
      .join(', ')}`,
  );
  log(`wrote ${path.join(args.out, 'results.json')} and results.md in ${meta.durationS.toFixed(0)} s`);
  if (errors.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
