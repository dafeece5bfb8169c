// A model ready to inspect: config, tokenizer, tapped session on the chosen provider, and the feeds its
// graph expects. runAttention returns each layer's probabilities as float32 [heads, n, n].
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { ExecutionProviderName, ExecutionProviderSetting, ModelCardSummary } from '../../shared/protocol';
import { ROLLOUT_DIAGONAL } from '../graph/attentionStatsGraph';
import { EngineError } from '../engineError';
import { BAND_WIDTH } from '../graph/headScoreGraph';
import type { HeadScoreInputs } from '../analysis/headRoles';
import type { ProviderOptions } from './executionProviders';
import { createSession } from './executionProviders';
import type { ModelConfig } from './modelConfig';
import { readModelCard, readModelConfig } from './modelConfig';
import { firstLine, ModelTokenizer } from './modelTokenizer';
import { ElemType } from '../graph/onnxGraph';
import type { GraphInputInfo, TappedModel } from '../graph/tapCache';
import { prepareTappedModel } from '../graph/tapCache';

export interface LoadOptions {
  readonly id: string;
  readonly cacheDir: string;
  readonly provider: ExecutionProviderSetting;
  readonly providerOptions?: ProviderOptions;
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
  /** Rollout up to this layer, [n, n]. */
  readonly rollout: Float32Array;
  /** Mean over heads, [n, n]. */
  readonly headMean: Float32Array;
  /** With encoding 'dense': the probabilities as uint8 scaled by each row's maximum, and those maxima. */
  readonly quantized?: Uint8Array;
  readonly rowMax?: Float32Array;
  /** With encoding 'topk' (n > DENSE_LIMIT): per row the k strongest keys (uint8 by the row max, uint16 keys,
   * 0xffff pads), k as chooseTopK gives it. */
  readonly topk?: { readonly k: number; readonly weights: Uint8Array; readonly indices: Uint16Array; readonly scale: Float32Array };
}

export interface RunOptions {
  /** Which compact form of the probabilities to fetch: dense u8 (n ≤ 512) or top-k. */
  readonly encoding?: 'dense' | 'topk';
  /** Fetch the float32 probabilities too (default true; the inspection itself does not need them). */
  readonly probabilities?: boolean;
}

function float16ToFloat32(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) {
    const h = half[i];
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    const sign = h & 0x8000 ? -1 : 1;
    out[i] = exponent === 0 ? sign * 2 ** -14 * (mantissa / 1024) : exponent === 31 ? (mantissa ? NaN : sign * Infinity) : sign * 2 ** (exponent - 15) * (1 + mantissa / 1024);
  }
  return out;
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
  ) {}

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
    const modelFile = path.join(folder, 'onnx', 'model.onnx');
    const tapped = await prepareTappedModel(modelFile, config.layers, options.cacheDir);
    const vocab = tapped.graphVocabSize ?? config.vocabSize;
    if (vocab !== null && tokenizer.vocabSize > vocab) {
      throw new EngineError(
        `Tokenizer ${path.join(folder, 'tokenizer.json')} (${tokenizer.vocabSize} tokens) does not match model ${modelFile} (${vocab} embedding rows).`,
      );
    }
    const runtime = await import('onnxruntime-node');
    let created;
    try {
      created = await createSession(tapped.modelPath, options.provider, options.providerOptions);
    } catch (error) {
      throw new EngineError(`Cannot load model ${modelFile}: ${firstLine(error)}`);
    }
    const card = await readModelCard(folder);
    return new LoadedModel(options.id, folder, config, tokenizer, tapped, created.session, runtime, created.provider, created.fallbackReason, card);
  }

  get layers(): number {
    return this.config.layers;
  }

  private feed(input: GraphInputInfo, ids: readonly number[]): ort.Tensor {
    const n = ids.length;
    const { Tensor } = this.runtime;
    const ints = (values: ArrayLike<number>): ort.Tensor =>
      input.elemType === ElemType.INT32
        ? new Tensor('int32', Int32Array.from(values), [1, n])
        : new Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(v))), [1, n]);
    const name = input.name;
    if (name === 'input_ids') return ints(ids);
    if (name === 'attention_mask') return ints(new Array<number>(n).fill(1));
    if (name === 'position_ids') return ints(Array.from({ length: n }, (_, i) => i));
    if (name === 'token_type_ids') return ints(new Array<number>(n).fill(0));
    if (name === 'use_cache_branch') return new Tensor('bool', Uint8Array.of(0), [1]);
    if (/^past_key_values|^past\./.test(name)) {
      // Empty cache: [batch, kv_heads, 0, head_dim], fixed dims from the graph where it gives them.
      const shape = input.shape ?? [];
      const dims = [1, typeof shape[1] === 'number' ? shape[1] : this.config.kvHeads, 0, typeof shape[3] === 'number' ? shape[3] : this.config.headDim];
      return input.elemType === ElemType.FLOAT16 ? new Tensor('float16', new Uint16Array(0), dims) : new Tensor('float32', new Float32Array(0), dims);
    }
    throw new EngineError(`Model input "${name}" is not one the inspector knows how to feed.`);
  }

  /** Runs the tapped graph on `ids`; returns each layer's attention probabilities and in-graph statistics. */
  async runAttention(ids: readonly number[], options: RunOptions = {}): Promise<LayerTensors[]> {
    const encoding = options.encoding;
    const probabilities = options.probabilities ?? true;
    const bad = ids.find((id) => id < 0 || (this.config.vocabSize !== null && id >= Math.max(this.config.vocabSize, this.tokenizer.vocabSize)));
    if (bad !== undefined) throw new EngineError(`Token id ${bad} is outside the model's vocabulary; tokenizer.json does not match the model.`);
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of this.tapped.inputs) feeds[input.name] = this.feed(input, ids);
    let outputs: ort.InferenceSession.OnnxValueMapType;
    try {
      const { plan, stats } = this.tapped;
      const fetches = [...stats.received, ...stats.rollout, ...stats.headMean, ...stats.bands, ...stats.entropy];
      if (probabilities) fetches.push(...plan.outputNames);
      if (encoding === 'dense') fetches.push(...stats.quantized, ...stats.rowMax);
      if (encoding === 'topk') fetches.push(...stats.topkWeights, ...stats.topkIndices, ...stats.topkScale);
      outputs = await this.session.run(feeds, fetches);
    } catch (error) {
      throw new EngineError(`Model run failed: ${firstLine(error)}`);
    }
    const n = ids.length;
    const stats = this.tapped.stats;
    return this.tapped.plan.outputNames.map((name, layer) => {
      const read = <T>(names: readonly string[]): T => (outputs[names[layer]] as ort.Tensor).data as T;
      const bands = read<Float32Array>(stats.bands);
      const heads = bands.length / (n * BAND_WIDTH);
      let data: Float32Array | undefined;
      if (probabilities) {
        const tensor = outputs[name] as ort.Tensor;
        data = tensor.type === 'float16' ? float16ToFloat32(tensor.data as Uint16Array) : (tensor.data as Float32Array);
        if (data.length !== heads * n * n) throw new EngineError(`Attention output ${name} has shape [${tensor.dims.join(', ')}], not [batch, heads, ${n}, ${n}].`);
      }
      const rollout = read<Float32Array>(stats.rollout);
      const diagonal = ROLLOUT_DIAGONAL(layer);
      for (let i = 0; i < n; i++) rollout[i * n + i] += diagonal;
      const base: LayerTensors = {
        ...(data ? { data } : {}),
        heads,
        n,
        scoreInputs: { heads, n, bands, entropy: read<Float32Array>(stats.entropy) },
        received: read<Float32Array>(stats.received),
        rollout,
        headMean: read<Float32Array>(stats.headMean),
      };
      if (encoding === 'dense') return { ...base, quantized: read<Uint8Array>(stats.quantized), rowMax: read<Float32Array>(stats.rowMax) };
      if (encoding === 'topk') {
        const weights = read<Uint8Array>(stats.topkWeights);
        const topk = { k: weights.length / (heads * n), weights, indices: read<Uint16Array>(stats.topkIndices), scale: read<Float32Array>(stats.topkScale) };
        return { ...base, topk };
      }
      return base;
    });
  }

  async dispose(): Promise<void> {
    await this.session.release().catch(() => undefined);
  }
}
