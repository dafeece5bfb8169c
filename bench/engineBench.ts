// Engine timings in one process, interleaved per round so background load hits all three alike:
// - raw: session.run of the original, un-tapped graph (logits out);
// - tapped: session.run of the tapped graph the engine builds (attention and in-graph statistics out);
// - full: the worker's whole inspection (tokenize → run → statistics → layer messages with their
//   transferable buffers → summary), through the engine's own runInspection.
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { computeCostSummary } from '../src/cost/costSummary';
import { runInspection } from '../src/engine/inspectApi';
import {
  createSession,
  ElemType,
  LoadedModel,
  prepareTappedModel,
  PROBABILITY_ROWS_INPUT,
} from '../src/engine/benchInternals';
import type { InspectRequest } from '../src/engine/inspectApi';
import type { GraphInputInfo, ModelTokenizer, TappedModel } from '../src/engine/benchInternals';
import type { InspectionResult, InspectionSummary, LayerAttention } from '../src/shared/protocol';
import { ResultCollector } from '../src/shared/resultFold';
import { promptText } from './corpus';
import { DenseJsonSize, panelPayloadSize, type PayloadSize } from './payload';
import { median, yieldToEventLoop } from './stats';
import { benchRequest } from './benchRequest';

export interface EngineBenchOptions {
  readonly root: string;
  readonly modelFolder: string;
  readonly cacheDir: string;
  readonly lengths: readonly number[];
  readonly runs: number;
  readonly warmups: number;
  /** Lengths whose full result is kept (for the webview benchmark). */
  readonly keepResults: readonly number[];
  readonly log: (line: string) => void;
}

export interface EngineLengthFigures {
  readonly tokens: number;
  readonly rawMs: number;
  readonly tappedMs: number;
  readonly fullMs: number;
  /** Medians of the stage timings the inspection reports itself. */
  readonly stagesMs: { readonly tokenize: number; readonly run: number; readonly stats: number };
  readonly payload: PayloadSize;
  /** JSON.stringify of the dense float32 attention [layer][head][query][key]. */
  readonly denseJsonBytes: number;
  /** Bytes of the raw float32 attention the worker holds before compaction. */
  readonly denseFloat32Bytes: number;
  readonly encoding: string;
}

export interface EngineBenchResult {
  readonly modelId: string;
  readonly layers: number;
  readonly heads: number;
  readonly maxTokens: number;
  readonly provider: string;
  readonly lengths: EngineLengthFigures[];
  readonly results: Map<number, InspectionResult>;
}

/** Text that the model's tokenizer turns into at least `n` tokens (BOS included), cut near token n. */
export function textOfTokens(tokenizer: ModelTokenizer, root: string, n: number): string {
  const source = promptText(root, n * 8 + 64);
  const { tokens } = tokenizer.tokenize(source);
  if (tokens.length < n) throw new Error(`corpus too short: ${tokens.length} tokens for ${n}`);
  let end = tokens[n - 1].end;
  // Cutting can change the last merge; extend until the prefix itself has n tokens.
  while (tokenizer.tokenize(source.slice(0, end)).tokens.length < n && end < source.length) end++;
  return source.slice(0, end);
}

export function feedsFor(
  runtime: typeof ort,
  inputs: readonly GraphInputInfo[],
  ids: readonly number[],
): Record<string, ort.Tensor> {
  const n = ids.length;
  const ints = (input: GraphInputInfo, values: ArrayLike<number>): ort.Tensor =>
    input.elemType === ElemType.INT32
      ? new runtime.Tensor('int32', Int32Array.from(values), [1, n])
      : new runtime.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), [1, n]);
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of inputs) {
    if (input.name === 'input_ids') feeds[input.name] = ints(input, ids);
    else if (input.name === 'attention_mask') feeds[input.name] = ints(input, new Array<number>(n).fill(1));
    else if (input.name === 'position_ids')
      feeds[input.name] = ints(
        input,
        Array.from({ length: n }, (_, i) => i),
      );
    else
      throw new Error(
        `the benchmark does not feed model input "${input.name}" (only input_ids, attention_mask, position_ids)`,
      );
  }
  return feeds;
}

interface Collected {
  header?: Omit<InspectionResult, 'layers' | 'summary' | 'source'>;
  layers: LayerAttention[];
  summary?: InspectionSummary;
}

async function fullInspection(
  model: LoadedModel,
  request: InspectRequest,
  dense?: DenseJsonSize,
): Promise<{ ms: number; collected: Collected }> {
  const folded = new ResultCollector();
  const started = performance.now();
  await runInspection(
    model,
    request,
    {
      emit: (event) => {
        folded.sink(event);
      },
      ...(dense
        ? { onRawLayer: (_l: number, data: Float32Array, heads: number, n: number) => dense.addLayer(data, heads, n) }
        : {}),
    },
    () => false,
  );
  const ms = performance.now() - started;
  const { header, summary } = folded.partial;
  const layers = folded.partial.layers.filter((l): l is LayerAttention => l !== undefined);
  return { ms, collected: { ...(header ? { header } : {}), layers, ...(summary ? { summary } : {}) } };
}

const CHECKED_JSON_TOKENS = 64;

/** At small n the counted JSON size is checked against a real JSON.stringify of the nested arrays. */
async function checkDenseJsonSize(model: LoadedModel, request: InspectRequest, counted: number): Promise<void> {
  const nested: number[][][][] = [];
  await runInspection(
    model,
    request,
    {
      emit: () => undefined,
      onRawLayer: (_l, data, heads, n) => {
        nested.push(
          Array.from({ length: heads }, (_, h) =>
            Array.from({ length: n }, (_, q) => Array.from(data.subarray((h * n + q) * n, (h * n + q + 1) * n))),
          ),
        );
      },
    },
    () => false,
  );
  const actual = Buffer.byteLength(JSON.stringify(nested), 'utf8');
  if (actual !== counted)
    throw new Error(`dense JSON size check failed: counted ${counted} bytes, JSON.stringify gives ${actual}`);
}

/** ORT's intra-op threads spin briefly after a run; a pause keeps one run's spinning out of the next one's time. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 15));

export async function runEngineBench(options: EngineBenchOptions): Promise<EngineBenchResult> {
  const { log } = options;
  const runtime = await import('onnxruntime-node');
  const model = await LoadedModel.load(options.modelFolder, {
    id: path.basename(options.modelFolder),
    cacheDir: options.cacheDir,
    provider: 'cpu',
  });
  const modelFile = path.join(options.modelFolder, 'onnx', 'model.onnx');
  const { heads, kvHeads, headDim } = model.config;
  // The entry the engine's load built (the same attention shape), not a second one.
  const tapped: TappedModel = await prepareTappedModel(modelFile, model.config.layers, options.cacheDir, {
    attention: { heads, kvHeads, headDim },
  });
  const raw = (await createSession(modelFile, 'cpu')).session;
  const tappedSession = (await createSession(tapped.modelPath, 'cpu')).session;
  // What the inspection fetches: the compact in-graph statistics, no per-head probabilities.
  const tappedOutputs = [
    tapped.stats.longRange,
    ...tapped.stats.layers.flatMap((l) => [
      l.heads.weights,
      l.heads.keys,
      l.heads.scale,
      l.rollout.weights,
      l.rollout.keys,
      l.rollout.scale,
      l.received,
      l.bands,
      l.entropy,
    ]),
  ];
  const lengths: EngineLengthFigures[] = [];
  const results = new Map<number, InspectionResult>();
  try {
    for (const n of options.lengths) {
      const tokens = Math.min(n, model.config.maxPositions);
      const text = textOfTokens(model.tokenizer, options.root, tokens);
      const ids = model.tokenizer.tokenize(text).ids.slice(0, tokens);
      const request = { ...benchRequest(tokens, text, tokens), rowsOnDemand: true };
      const rawFeeds = feedsFor(runtime, tapped.inputs, ids);
      // The tapped graph also takes how many probability rows to output: none, as in an inspection.
      const tappedFeeds = {
        ...rawFeeds,
        [PROBABILITY_ROWS_INPUT]: new runtime.Tensor('int64', BigInt64Array.of(0n), [1]),
      };
      const samples = {
        raw: [] as number[],
        tapped: [] as number[],
        full: [] as number[],
        tokenize: [] as number[],
        run: [] as number[],
        stats: [] as number[],
      };
      let last: Collected | null = null;
      for (let round = 0; round < options.warmups + options.runs; round++) {
        const measured = round >= options.warmups;
        let t = performance.now();
        await raw.run(rawFeeds);
        const rawMs = performance.now() - t;
        await settle();
        t = performance.now();
        await tappedSession.run(tappedFeeds, tappedOutputs);
        const tappedMs = performance.now() - t;
        await settle();
        const full = await fullInspection(model, request);
        await settle();
        if (!measured) continue;
        samples.raw.push(rawMs);
        samples.tapped.push(tappedMs);
        samples.full.push(full.ms);
        const timings = full.collected.summary?.timings;
        if (timings) {
          samples.tokenize.push(timings.tokenizeMs);
          samples.run.push(timings.runMs);
          samples.stats.push(timings.statsMs);
        }
        last = full.collected;
        await yieldToEventLoop();
      }
      // One more, untimed inspection measures the dense JSON size from the float32 attention.
      const dense = new DenseJsonSize();
      const denseRun = await fullInspection(model, request, dense);
      if (tokens <= CHECKED_JSON_TOKENS) await checkDenseJsonSize(model, request, dense.bytes);
      last ??= denseRun.collected;
      if (!last.header || !last.summary) throw new Error(`the inspection at ${tokens} tokens produced no result`);
      // What the panel receives: the engine's result plus the host's source and cost summary (default target).
      const result: InspectionResult = {
        ...last.header,
        source: { label: `benchmark prompt, ${tokens} tokens`, offset: 0 },
        cost: await computeCostSummary(text),
        layers: last.layers,
        summary: last.summary,
      };
      if (result.tokens.length !== tokens)
        throw new Error(`asked for ${tokens} tokens, the inspection has ${result.tokens.length}`);
      if (options.keepResults.includes(n)) results.set(n, result);
      const figures: EngineLengthFigures = {
        tokens,
        rawMs: median(samples.raw),
        tappedMs: median(samples.tapped),
        fullMs: median(samples.full),
        stagesMs: { tokenize: median(samples.tokenize), run: median(samples.run), stats: median(samples.stats) },
        payload: panelPayloadSize(result),
        denseJsonBytes: dense.bytes,
        denseFloat32Bytes: model.config.layers * model.config.heads * tokens * tokens * 4,
        encoding:
          result.layers[0]?.heads.encoding === 'topk-u8' ? `topk-u8 (k=${result.layers[0].heads.k})` : 'dense-u8',
      };
      lengths.push(figures);
      log(
        `engine ${String(tokens).padStart(4)} tokens: raw ${figures.rawMs.toFixed(1)} ms, tapped ${figures.tappedMs.toFixed(1)} ms, full ${figures.fullMs.toFixed(1)} ms ` +
          `(full/raw ${(figures.fullMs / figures.rawMs).toFixed(2)}); payload ${(figures.payload.totalBytes / 2 ** 20).toFixed(2)} MiB vs JSON ${(figures.denseJsonBytes / 2 ** 20).toFixed(1)} MiB`,
      );
    }
    return {
      modelId: model.id,
      layers: model.config.layers,
      heads: model.config.heads,
      maxTokens: model.config.maxPositions,
      provider: model.provider,
      lengths,
      results,
    };
  } finally {
    await raw.release().catch(() => undefined);
    await tappedSession.release().catch(() => undefined);
    await model.dispose();
  }
}
