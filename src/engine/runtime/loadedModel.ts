// A model ready to inspect: config, tokenizer, tapped session on the chosen provider, and the feeds its
// graph expects. runTensors returns what the tapped graph computed: per layer the compact rows of the
// probabilities and of the rollout, the head-role inputs and the attention received, and the long-range sum;
// each layer's float32 probabilities [heads, n, n] only when asked for (CLI --dense, the induction probe).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import type {
  AttentionRows,
  ExecutionProviderName,
  ExecutionProviderSetting,
  ModelCardSummary,
  OverviewTiles,
} from '../../shared/protocol';
import type { CompactRowsOutputs } from '../graph/attentionStatsGraph';
import { ALL_ROWS, layerStatsNames, NO_HEAD_ROWS, PROBABILITY_ROWS_INPUT } from '../graph/attentionStatsGraph';
import { EngineError } from '../engineError';
import { BAND_WIDTH } from '../graph/headScoreGraph';
import { TILES } from '../graph/tilesGraph';
import type { HeadScoreInputs } from '../analysis/headRoles';
import type { LongRangeTop } from '../analysis/drivers';
import type { LayerQK } from '../analysis/exactRows';
import { ExactRows } from '../analysis/exactRows';
import { halfToFloatTable } from '../analysis/halfFloat';
import type { ProviderOptions } from './executionProviders';
import { createSession } from './executionProviders';
import type { ModelConfig } from './modelConfig';
import { readModelCard, readModelConfig } from './modelConfig';
import { firstLine, ModelTokenizer } from './modelTokenizer';
import type { ModelDtype, ResolvedModelFile } from './modelFiles';
import { resolveModelFile } from './modelFiles';
import { prefillFeeds } from './prefillFeeds';
import type { TappedModel } from '../graph/tapCache';
import { prepareTappedModel } from '../graph/tapCache';
import { LOGIT_ROWS_INPUT, LOGITS_OUTPUT } from '../graph/ggufDecoder';
import type { BuiltSource } from './builtSource';
import type { GgufFile } from './ggufFile';
import { readGgufFile } from './ggufFile';
import type { GgufPrepared } from './ggufModel';
import { findCachedGguf, prepareBuiltModel } from './ggufModel';
import { sharedRowKernel } from './rowKernel';
import { readSafetensorsFolder } from './safetensorsFile';
import type { SavedGraphUse } from './savedGraph';
import { ggufTokenizerSpec, tokenizerFromSpec } from './ggufTokenizer';

export interface LoadOptions {
  readonly id: string;
  readonly cacheDir: string;
  readonly provider: ExecutionProviderSetting;
  readonly providerOptions?: ProviderOptions;
  /** Which file of the folder to run (modelFiles.ts); default 'auto'. */
  readonly dtype?: ModelDtype;
  /** The embedded proxy model (the panel's proxy note is for it alone). */
  readonly embedded?: boolean;
  /** Called when the tapped graph must be built first (once per model): "preparing the model (once)", with
   * the fraction done when known (a GGUF graph). */
  readonly onPreparing?: (fraction?: number) => void;
  /** The machine's memory in bytes, for a 16-bit checkpoint's fp32-or-8-bit choice (default os.totalmem). */
  readonly totalMemory?: () => number;
  /** Tests only: replaces readGgufFile (to count the parses a load makes). */
  readonly readGguf?: (path: string) => Promise<GgufFile>;
}

/** What the model was read from: an ONNX export, or a GGUF file whose graph the engine built. */
export interface ModelOrigin {
  readonly format: 'onnx' | 'gguf' | 'safetensors';
  readonly architecture?: string;
  /** The quantization, e.g. Q4_K_M or the per-tensor mix. */
  readonly quant?: string;
}

export interface LayerTensors {
  /** [heads, n, n], row-major; rows are queries. Only with `probabilities` (heads × n² floats). */
  readonly data?: Float32Array;
  readonly heads: number;
  readonly n: number;
  /** What the head-role scores read (headScoreGraph.ts). */
  readonly scoreInputs: HeadScoreInputs;
  /** Per key: mean over heads and queries (sums to 1). */
  readonly received: Float32Array;
  /** The probabilities as compact rows [heads · n rows], in the form the graph chose (dense u8 or top-k). */
  readonly rows: AttentionRows;
  /** Rollout up to this layer as compact rows [n rows], the same form and k. */
  readonly rollout: AttentionRows;
  /** ‖v_j W_O^h‖ per head and key [heads · n] ("attention × value norm"), when the graph gives it. */
  readonly valueNorms?: Float32Array;
  /** Overview tiles [(heads + 1) · T · T], the head mean last (tilesGraph.ts); absent where rows are sent. */
  readonly tiles?: OverviewTiles;
}

export interface AttentionTensors {
  readonly layers: LayerTensors[];
  /** The logits [vocab] at the last position, when the graph outputs them (the graphs the engine builds). */
  readonly lastLogits?: Float32Array;
  /** Σ over layers ≥ longRangeFrom of the mean over heads, [n, n]; empty where the statistics are blocked. */
  readonly longRange: Float32Array;
  readonly longRangeFrom: number;
  /** Blocked statistics: each query's strongest long-range keys of that sum instead (siteStatsGraph.ts). */
  readonly longRangeTop?: LongRangeTop;
  /** Every layer's kept Q and K, for exact rows on demand; null where the graph's Q/K were not found. */
  readonly exact: ExactRows | null;
}

export interface RunOptions {
  /** Fetch the float32 probabilities too (default true; the inspection itself does not need them). */
  readonly probabilities?: boolean;
  /** Compute every head's compact rows above the dense limit (default true); false: rows come on demand. */
  readonly headRows?: boolean;
}

function float16ToFloat32(half: Uint16Array): Float32Array {
  const table = halfToFloatTable();
  return Float32Array.from(half, (h) => table[h]);
}

/** The last row of a logits tensor [.., rows, vocab], as float32. */
function lastRow(tensor: ort.Tensor): Float32Array {
  const vocab = tensor.dims[tensor.dims.length - 1];
  const data = tensor.type === 'float16' ? float16ToFloat32(tensor.data as Uint16Array) : (tensor.data as Float32Array);
  return data.slice(data.length - vocab);
}

export class LoadedModel {
  private constructor(
    readonly id: string,
    readonly folder: string,
    readonly config: ModelConfig,
    readonly tokenizer: ModelTokenizer,
    private readonly tapped: TappedModel,
    private readonly session: ort.InferenceSession,
    private readonly runtime: typeof ort,
    readonly provider: ExecutionProviderName,
    readonly fallbackReason: string | undefined,
    readonly card: ModelCardSummary | undefined,
    /** The graph that ran (relative to the folder), its dtype and why `auto` chose it. */
    readonly file: ResolvedModelFile,
    readonly embedded: boolean,
    readonly origin: ModelOrigin = { format: 'onnx' },
    /** A built graph on CPU: whether onnxruntime's saved optimized graph ran (savedGraph.ts). */
    readonly savedGraph?: SavedGraphUse,
  ) {}

  /**
   * A GGUF file: its graph is built (once, cached) from the tensors, its tokenizer from the metadata. A file
   * whose entry is in the cache is not parsed again: the entry's record has what the load needs.
   */
  static async loadGguf(ggufPath: string, options: LoadOptions): Promise<LoadedModel> {
    const read = options.readGguf ?? readGgufFile;
    const onPreparing = options.onPreparing;
    const cached = await findCachedGguf(ggufPath, options.cacheDir);
    if (cached) {
      const { prepared, tokenizer } = cached;
      return LoadedModel.loadBuilt(prepared.file, tokenizerFromSpec(tokenizer, ggufPath), options, async (rebuild) =>
        rebuild
          ? prepareBuiltModel(await read(ggufPath), options.cacheDir, { rebuild, onPreparing, tokenizer })
          : prepared,
      );
    }
    const file = await read(ggufPath);
    const tokenizer = ggufTokenizerSpec(file.metadata);
    return LoadedModel.loadBuilt(file, tokenizerFromSpec(tokenizer, ggufPath), options, (rebuild) =>
      prepareBuiltModel(file, options.cacheDir, { rebuild, onPreparing, tokenizer }),
    );
  }

  /** A Hugging Face checkpoint (config.json + safetensors): built like a GGUF file, its own tokenizer.json. */
  static async loadSafetensors(folder: string, options: LoadOptions): Promise<LoadedModel> {
    const file = await readSafetensorsFolder(folder, options.totalMemory ? { totalMemory: options.totalMemory } : {});
    return LoadedModel.loadBuilt(file, await ModelTokenizer.load(folder), options, (rebuild) =>
      prepareBuiltModel(file, options.cacheDir, { rebuild, onPreparing: options.onPreparing }),
    );
  }

  /** A built model: `prepare(true)` builds its graph again (a cached graph whose session fails to load). */
  private static async loadBuilt(
    source: BuiltSource,
    tokenizer: ModelTokenizer,
    options: LoadOptions,
    prepare: (rebuild: boolean) => Promise<GgufPrepared>,
  ): Promise<LoadedModel> {
    const ggufPath = source.path;
    const { hyper } = source;
    if (tokenizer.vocabSize > hyper.vocab)
      throw new EngineError(
        `${ggufPath}: the tokenizer has ${tokenizer.vocabSize} tokens but the embedding has ${hyper.vocab} rows.`,
      );
    let prepared = await prepare(false);
    const config: ModelConfig = {
      modelType: hyper.arch,
      layers: hyper.layers,
      heads: hyper.heads,
      kvHeads: hyper.kvHeads,
      headDim: hyper.headDim,
      maxPositions: hyper.context,
      vocabSize: hyper.vocab,
    };
    const tapped = (p: typeof prepared): TappedModel => ({
      plan: { kind: 'tapped', outputNames: p.stats.probabilities, weightsDtype: p.file.quant },
      inputs: [{ name: 'input_ids', elemType: 7, shape: [1, 'sequence'] }],
      graphVocabSize: hyper.vocab,
      stats: p.stats,
      sites: p.sites,
      modelPath: p.modelPath,
    });
    const runtime = await import('onnxruntime-node');
    const providerOptions: ProviderOptions = { ...options.providerOptions, saveOptimizedGraph: true };
    let created;
    try {
      created = await createSession(prepared.modelPath, options.provider, providerOptions);
    } catch {
      try {
        prepared = await prepare(true);
        created = await createSession(prepared.modelPath, options.provider, providerOptions);
      } catch (error) {
        throw new EngineError(`Cannot load model ${ggufPath}: ${firstLine(error)}`);
      }
    }
    const safetensors = source.format === 'safetensors';
    const file: ResolvedModelFile = {
      file: ggufPath,
      graph: safetensors ? 'model.safetensors' : path.basename(ggufPath),
      externalData: [],
      dtype: 'unknown',
      layout: 'onnx',
      bytes: prepared.file.size,
    };
    return new LoadedModel(
      options.id,
      safetensors ? ggufPath : path.dirname(ggufPath),
      config,
      tokenizer,
      tapped(prepared),
      created.session,
      runtime,
      created.provider,
      created.fallbackReason,
      undefined,
      file,
      false,
      { format: safetensors ? 'safetensors' : 'gguf', architecture: hyper.arch, quant: prepared.file.quant },
      created.savedGraph,
    );
  }

  static async load(folder: string, options: LoadOptions): Promise<LoadedModel> {
    try {
      const stat = await fs.stat(folder);
      if (!stat.isDirectory()) throw new Error('not a folder');
      await fs.readdir(folder);
    } catch {
      throw new EngineError(`Cannot read model folder ${folder}.`);
    }
    const config = await readModelConfig(folder);
    const tokenizer = await ModelTokenizer.load(folder);
    const file = await resolveModelFile(folder, options.dtype ?? 'auto', {
      gpu: options.provider !== 'cpu' && options.provider !== 'auto',
    });
    const modelFile = file.file;
    const attention = { heads: config.heads, kvHeads: config.kvHeads, headDim: config.headDim };
    let tapped = await prepareTappedModel(modelFile, config.layers, options.cacheDir, {
      onPreparing: options.onPreparing,
      heads: config.heads,
      attention,
    });
    const vocab = tapped.graphVocabSize ?? config.vocabSize;
    if (vocab !== null && tokenizer.vocabSize > vocab) {
      throw new EngineError(
        `Tokenizer ${path.join(folder, 'tokenizer.json')} (${tokenizer.vocabSize} tokens) does not match model ${modelFile} (${vocab} embedding rows).`,
      );
    }
    const runtime = await import('onnxruntime-node');
    let created;
    // A fused operator that gives its probabilities only on CPU (GroupQueryAttention) keeps the graph there.
    const providerOptions = (t: TappedModel): ProviderOptions => ({
      ...options.providerOptions,
      ...(t.plan.cpuOnly ? { cpuOnlyReason: t.plan.cpuOnly } : {}),
    });
    try {
      created = await createSession(tapped.modelPath, options.provider, providerOptions(tapped));
    } catch {
      // A cached tapped graph that onnxruntime cannot load (corrupt, or its links broken) is rebuilt once.
      try {
        tapped = await prepareTappedModel(modelFile, config.layers, options.cacheDir, {
          rebuild: true,
          onPreparing: options.onPreparing,
          heads: config.heads,
          attention,
        });
        created = await createSession(tapped.modelPath, options.provider, providerOptions(tapped));
      } catch (error) {
        throw new EngineError(`Cannot load model ${modelFile}: ${firstLine(error)}`);
      }
    }
    const card = await readModelCard(folder);
    return new LoadedModel(
      options.id,
      folder,
      config,
      tokenizer,
      tapped,
      created.session,
      runtime,
      created.provider,
      created.fallbackReason,
      card,
      file,
      options.embedded === true,
    );
  }

  /** The dtype that ran: from the file name, else from the graph's operators. */
  get dtype(): string {
    return this.file.dtype !== 'unknown' ? this.file.dtype : (this.tapped.plan.weightsDtype ?? 'unknown');
  }

  get layers(): number {
    return this.config.layers;
  }

  /** Runs the tapped graph on `ids`; returns each layer's in-graph statistics (and probabilities if asked). */
  async runAttention(ids: readonly number[], options: RunOptions = {}): Promise<LayerTensors[]> {
    return (await this.runTensors(ids, options)).layers;
  }

  async runTensors(ids: readonly number[], options: RunOptions = {}): Promise<AttentionTensors> {
    const probabilities = options.probabilities ?? true;
    // A broken tokenizer.json can yield ids that are not numbers at all (an added token with no content).
    const bad = ids.findIndex(
      (id) =>
        !Number.isInteger(id) ||
        id < 0 ||
        (this.config.vocabSize !== null && id >= Math.max(this.config.vocabSize, this.tokenizer.vocabSize)),
    );
    if (bad >= 0) {
      const id = Number.isInteger(ids[bad])
        ? `Token id ${ids[bad]} is outside the model's vocabulary`
        : `Token ${bad} has no valid id`;
      throw new EngineError(`${id}; tokenizer.json does not match the model.`);
    }
    const feeds = prefillFeeds(this.runtime, this.tapped.inputs, ids, {
      kvHeads: this.config.kvHeads,
      headDim: this.config.headDim,
      metadata: this.session.inputMetadata,
    });
    const rows = probabilities ? ALL_ROWS : options.headRows === false ? NO_HEAD_ROWS : 0;
    feeds[PROBABILITY_ROWS_INPUT] = new this.runtime.Tensor('int64', BigInt64Array.of(BigInt(rows)), [1]);
    // The built graphs take how many last rows to give logits for; a sliced ONNX head defaults to the last one.
    const logitsName = this.origin.format !== 'onnx' ? LOGITS_OUTPUT : this.tapped.logits;
    if (this.origin.format !== 'onnx')
      feeds[LOGIT_ROWS_INPUT] = new this.runtime.Tensor('int64', BigInt64Array.of(1n), [1]);
    const { stats } = this.tapped;
    let outputs: ort.InferenceSession.OnnxValueMapType;
    try {
      const fetches = [stats.longRange, ...stats.layers.flatMap(layerStatsNames)];
      if (stats.longRangeTop) fetches.push(stats.longRangeTop.weights, stats.longRangeTop.keys);
      if (probabilities) fetches.push(...stats.probabilities);
      if (this.tapped.valueNorms) fetches.push(...this.tapped.valueNorms);
      for (const site of this.tapped.sites ?? []) fetches.push(site.q, site.k);
      if (logitsName) fetches.push(logitsName);
      outputs = await this.session.run(feeds, fetches);
    } catch (error) {
      throw new EngineError(`Model run failed: ${firstLine(error)}`);
    }
    const n = ids.length;
    const read = <T>(name: string): T => (outputs[name] as ort.Tensor).data as T;
    // The graph chose the form (attentionStatsGraph.ts): empty keys mean dense rows.
    const rowsOf = (o: CompactRowsOutputs, rows: number): AttentionRows => {
      const weights = read<Uint8Array>(o.weights);
      const keys = read<Uint16Array>(o.keys);
      const rowScale = read<Float32Array>(o.scale);
      // Not computed (rows on demand, or a blocked layer): k = 0, nothing sent (not even a scale per row).
      if (weights.length === 0 && rows > 0)
        return { encoding: 'topk-u8', rows, n, k: 0, weights, rowScale: new Float32Array(0), indices: keys };
      const k = weights.length / rows;
      return keys.length === 0
        ? { encoding: 'dense-u8', rows, n, k, weights, rowScale }
        : { encoding: 'topk-u8', rows, n, k, weights, rowScale, indices: keys };
    };
    const layers = stats.layers.map((o, layer): LayerTensors => {
      const bandSums = read<Float32Array>(o.bands);
      const heads = bandSums.length / BAND_WIDTH;
      let data: Float32Array | undefined;
      if (probabilities) {
        const name = stats.probabilities[layer];
        const tensor = outputs[name] as ort.Tensor;
        data = tensor.type === 'float16' ? float16ToFloat32(tensor.data as Uint16Array) : (tensor.data as Float32Array);
        if (data.length !== heads * n * n)
          throw new EngineError(
            `Attention output ${name} has shape [${tensor.dims.join(', ')}], not [batch, heads, ${n}, ${n}].`,
          );
      }
      const tiles = read<Float32Array>(o.tiles);
      return {
        ...(data ? { data } : {}),
        heads,
        n,
        scoreInputs: { heads, n, bandSums, entropy: read<Float32Array>(o.entropy) },
        received: read<Float32Array>(o.received),
        rows: rowsOf(o.heads, heads * n),
        rollout: rowsOf(o.rollout, n),
        // Empty where rows are sent instead (attentionStatsGraph.ts).
        ...(tiles.length > 0 ? { tiles: { size: Math.min(TILES, n), data: tiles } } : {}),
        ...(this.tapped.valueNorms ? { valueNorms: read<Float32Array>(this.tapped.valueNorms[layer]) } : {}),
      };
    });
    const top = stats.longRangeTop;
    const topWeights = top ? read<Float32Array>(top.weights) : new Float32Array(0);
    return {
      layers,
      longRange: read<Float32Array>(stats.longRange),
      longRangeFrom: stats.longRangeFrom,
      ...(top && topWeights.length > 0
        ? { longRangeTop: { weights: topWeights, keys: read<Float32Array>(top.keys), k: topWeights.length / n } }
        : {}),
      exact: this.exactRows(outputs, n),
      ...(logitsName ? { lastLogits: lastRow(outputs[logitsName] as ort.Tensor) } : {}),
    };
  }

  /** Whether the statistics are recomputed from Q and K (blocked at long lengths; the attention stays fused). */
  get recomputesStatistics(): boolean {
    return this.tapped.stats.recomputed === true;
  }

  /** Whether exact rows can be computed on demand (the graph's Q and K were found). */
  get hasExactRows(): boolean {
    return (this.tapped.sites ?? null) !== null;
  }

  private exactRows(outputs: ort.InferenceSession.OnnxValueMapType, n: number): ExactRows | null {
    const sites = this.tapped.sites;
    if (!sites) return null;
    const kept = (name: string): Uint16Array | Float32Array => {
      const tensor = outputs[name] as ort.Tensor;
      return tensor.type === 'float16' ? (tensor.data as Uint16Array) : (tensor.data as Float32Array);
    };
    const layers = sites.map((site): LayerQK => ({
      q: kept(site.q),
      k: kept(site.k),
      heads: site.heads,
      kvHeads: site.kvHeads,
      headDim: site.headDim,
      scale: site.scale,
      slidingWindow: site.slidingWindow,
      softcap: site.softcap,
    }));
    for (const l of layers)
      if (l.q.length !== l.heads * n * l.headDim || l.k.length !== l.kvHeads * n * l.headDim)
        throw new EngineError(`The kept queries and keys do not have the shape [heads, ${n}, ${l.headDim}].`);
    return new ExactRows(n, layers, sharedRowKernel());
  }

  async dispose(): Promise<void> {
    await this.session.release().catch(() => undefined);
  }
}
