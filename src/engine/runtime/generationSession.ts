// The model writing an answer: the source graph with its attention probabilities exposed (attentionTap.ts,
// no statistics), continuing a prompt token by token, greedy or sampled (temperature, seeded), stoppable.
// Where the graph takes a cache (past_key_values inputs), each step feeds one token and the previous step's
// present key/values; a graph without one (the embedded proxy) runs the whole sequence again per step.
// Every answer token's attention is captured as it is fed: per layer, its row [heads × keys] over the
// prompt and the answer so far — the same rows the float64 reference decoder gives for that position. A
// given answer (readAnswer) is read in one pass over prompt + answer, its tokens' rows taken the same way.
// Asked for (rollout: true), each answer token also gets its exact attention rollout per layer
// (analysis/answerRollout.ts): the whole pass before it is rolled out by onnxruntime products, each token after
// it by the recursion over rows. Opened with value norms, each also gets its rows weighted by value norm, the
// graph computing the norms of the keys each run feeds (analysis/valueNormWeights.ts keeps the earlier ones).
import * as fs from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import type { ExecutionProviderName, ExecutionProviderSetting } from '../../shared/protocol';
import { seededRandom } from '../../shared/seededRandom';
import { EngineError } from '../engineError';
import { planAttentionTap } from '../graph/attentionTap';
import { appendValueNorms } from '../graph/valueNormGraph';
import { decodeModel, encodeModel } from '../graph/onnxGraph';
import { createSession } from './executionProviders';
import type { ModelConfig } from './modelConfig';
import { resolveModelFile, type ModelDtype } from './modelFiles';
import { firstLine } from './modelTokenizer';
import { argmax, lastRows, presentFor, sample } from './decodeStep';
import { PAST_INPUT, prefillFeeds } from './prefillFeeds';
import { RolloutProduct } from './rolloutProduct';
import { headMean, RolloutRows } from '../analysis/answerRollout';
import { KeyNorms, valueNormWeighted } from '../analysis/valueNormWeights';

export interface GeneratedToken {
  /** Position in the answer (0 for its first token). */
  readonly index: number;
  readonly id: number;
  /** Per layer, this token's attention row per head: heads × keys, keys = prompt + answer tokens up to it. */
  readonly rows: readonly Float32Array[];
  readonly keys: number;
  /** Per layer, this token's attention rollout (answerRollout.ts) over the same keys (own copies), when asked for. */
  readonly rollout?: readonly Float32Array[];
  /** Per layer, its rows weighted by value norm (valueNormWeights.ts), when the session has the norms. */
  readonly valueNorm?: readonly Float32Array[];
}

export interface GenerateOptions {
  readonly maxTokens: number;
  /** 0 or absent: greedy (deterministic). */
  readonly temperature?: number;
  readonly seed?: number;
  /** Ends the answer before a token it accepts (end of text, end of turn). */
  readonly stop?: (id: number) => boolean;
  readonly isCancelled?: () => boolean;
  /** Each answer token as soon as its attention is captured. */
  readonly onToken?: (token: GeneratedToken) => void;
  /**
   * Also each token's rollout: the prompt's is rolled out once (onnxruntime products), then each token costs
   * layers·t²/2 multiply-adds, about as much as the embedded model's own decode step at 1,024 tokens.
   */
  readonly rollout?: boolean;
}

export class GenerationCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

interface StepOutput {
  readonly logits: Float32Array;
  readonly vocab: number;
  /** Per layer, the last query's rows [heads × keys]. */
  readonly rows: Float32Array[];
  readonly keys: number;
  readonly presents: Record<string, ort.Tensor>;
  /** Per layer, the whole pass's probabilities [heads, n, n], when asked for. */
  readonly whole?: Float32Array[];
  /** How many tokens the run fed (all of them without a cache, else one). */
  readonly fed: number;
  /** Per layer, the value norms of the fed keys [heads × fed], when the session has them. */
  readonly norms?: Float32Array[];
}

export class GenerationSession {
  private rolloutProduct: Promise<RolloutProduct> | null = null;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly runtime: typeof ort,
    private readonly config: ModelConfig,
    private readonly taps: readonly string[],
    /** past input → present output, empty without a cache. */
    private readonly cache: ReadonlyMap<string, string>,
    readonly provider: ExecutionProviderName,
    /** Per layer, the ‖v_j W_O^h‖ output (valueNormGraph.ts), when opened with valueNorms. */
    private readonly valueNorms: readonly string[],
    /** Why a session opened with valueNorms 'when-supported' has none (the graph's reason), else undefined. */
    readonly valueNormsUnavailable?: string,
  ) {}

  /** Whether each step feeds one token and the cache (else the whole sequence runs again). */
  get kvCache(): boolean {
    return this.cache.size > 0;
  }

  static async open(
    folder: string,
    config: ModelConfig,
    options: {
      readonly provider: ExecutionProviderSetting;
      readonly dtype?: ModelDtype;
      /** true: the norms or an error; 'when-supported': the norms where the graph allows them (valueNormsUnavailable says why not). */
      readonly valueNorms?: boolean | 'when-supported';
    },
  ): Promise<GenerationSession> {
    const runtime = await import('onnxruntime-node');
    const resolved = await resolveModelFile(folder, options.dtype ?? 'auto', {
      gpu: options.provider !== 'cpu' && options.provider !== 'auto',
    });
    if (resolved.externalData.length > 0)
      throw new EngineError(
        `Generating with attention reads graphs whose weights are inside the .onnx file; ${resolved.file} keeps them in ${resolved.externalData[0]}.`,
      );
    const fileBytes = await fs.readFile(resolved.file);
    let model = decodeModel(fileBytes);
    let plan = planAttentionTap(model, config.layers, resolved.file);
    let valueNorms: string[] = [];
    let valueNormsUnavailable: string | undefined;
    if (options.valueNorms)
      try {
        valueNorms = appendValueNorms(model, plan.outputNames, config.heads, resolved.file, { newKeysOnly: true });
      } catch (error) {
        if (options.valueNorms !== 'when-supported' || !(error instanceof EngineError)) throw error;
        // The layers before the one it could not read were extended: start again from the file.
        valueNormsUnavailable = error.message;
        model = decodeModel(fileBytes);
        plan = planAttentionTap(model, config.layers, resolved.file);
      }
    const bytes = encodeModel(model);
    let created;
    try {
      created = await createSession(resolved.file, options.provider, {
        create: (_file, sessionOptions) => runtime.InferenceSession.create(bytes, sessionOptions),
        ...(plan.cpuOnly ? { cpuOnlyReason: plan.cpuOnly } : {}),
      });
    } catch (error) {
      throw new EngineError(`Cannot load model ${resolved.file}: ${firstLine(error)}`);
    }
    const session = created.session;
    const cache = new Map<string, string>();
    for (const name of session.inputNames.filter((n) => PAST_INPUT.test(n))) {
      const present = presentFor(name, session.outputNames);
      if (!present) {
        cache.clear();
        break;
      }
      cache.set(name, present);
    }
    return new GenerationSession(
      session,
      runtime,
      config,
      plan.outputNames,
      cache,
      created.provider,
      valueNorms,
      valueNormsUnavailable,
    );
  }

  /**
   * Continues `promptIds` by at most `maxTokens` tokens (and never past the model's context). Each answer
   * token's attention row is captured when it is fed to the model, so the last token costs one more pass.
   */
  async generate(promptIds: readonly number[], options: GenerateOptions): Promise<GeneratedToken[]> {
    if (promptIds.length === 0) throw new EngineError('Nothing to continue: the prompt has no tokens.');
    const limit = this.config.maxPositions;
    const random = seededRandom(options.seed ?? 1);
    const temperature = options.temperature ?? 0;
    const pick = (out: StepOutput): number =>
      temperature > 0 ? sample(out.logits, out.vocab, temperature, random) : argmax(out.logits, out.vocab);
    const ids = [...promptIds];
    const tokens: GeneratedToken[] = [];
    let out = await this.step(ids, null, options.rollout === true);
    const rollout = options.rollout ? await this.seedRollout(out.whole ?? [], ids.length) : null;
    const keyNorms = this.valueNorms.length > 0 ? new KeyNorms(this.taps.length, this.config.heads) : null;
    if (out.norms) keyNorms?.add(out.norms, out.fed, true);
    while (tokens.length < options.maxTokens && ids.length < limit) {
      if (options.isCancelled?.()) throw new GenerationCancelled();
      const next = pick(out);
      if (options.stop?.(next)) break;
      ids.push(next);
      out = await this.step(ids, this.kvCache ? out.presents : null);
      const keys = out.keys;
      const own = rollout?.next(out.rows, keys);
      if (out.norms) keyNorms?.add(out.norms, out.fed, !this.kvCache);
      const token: GeneratedToken = {
        index: tokens.length,
        id: next,
        rows: out.rows,
        keys,
        ...(own ? { rollout: own } : {}),
        ...(keyNorms ? { valueNorm: keyNorms.weigh(out.rows, keys) } : {}),
      };
      tokens.push(token);
      options.onToken?.(token);
    }
    return tokens;
  }

  /**
   * A given answer read after `promptIds` in one pass (teacher forcing): each answer token's rows are those of
   * its position, over the prompt and the answer up to it — what generate captures for a token it wrote.
   */
  async readAnswer(
    promptIds: readonly number[],
    answerIds: readonly number[],
    options: { readonly rollout?: boolean } = {},
  ): Promise<GeneratedToken[]> {
    const ids = [...promptIds, ...answerIds];
    if (ids.length > this.config.maxPositions)
      throw new EngineError(
        `The prompt and its answer have ${ids.length} tokens, more than the model's context of ${this.config.maxPositions}.`,
      );
    const out = await this.runWhole(ids, [...this.taps, ...this.valueNorms]);
    const n = ids.length;
    const norms = this.valueNorms.map((name) => out[name].data as Float32Array);
    const probabilities = this.taps.map((tap) => {
      const tensor = out[tap] as ort.Tensor;
      if (tensor.dims.length !== 4 || tensor.dims[2] !== n || tensor.dims[3] !== n)
        throw new EngineError(
          `Attention output ${tap} has shape [${tensor.dims.join(', ')}], not [1, heads, ${n}, ${n}].`,
        );
      return tensor.data as Float32Array;
    });
    const rollout = options.rollout ? (await this.seedRollout(probabilities, n)).rollout : null;
    return answerIds.map((id, index): GeneratedToken => {
      const q = promptIds.length + index;
      const keys = q + 1;
      const rows = probabilities.map((data) => {
        const heads = data.length / (n * n);
        const row = new Float32Array(heads * keys);
        for (let h = 0; h < heads; h++) row.set(data.subarray((h * n + q) * n, (h * n + q) * n + keys), h * keys);
        return row;
      });
      const weighted = norms.length > 0 ? rows.map((r, l) => valueNormWeighted(r, keys, norms[l], n)) : null;
      return {
        index,
        id,
        rows,
        keys,
        ...(rollout ? { rollout: rollout.at(q).map((r) => r.slice()) } : {}),
        ...(weighted ? { valueNorm: weighted } : {}),
      };
    });
  }

  /**
   * "Attention × value norm" (Kobayashi et al. 2020) over `ids`: per layer, [heads, n, n] rows of
   * α_ij · ‖v_j W_O^h‖, each row normalized to sum to 1. Needs a session opened with valueNorms.
   */
  async valueNormRows(ids: readonly number[]): Promise<Float32Array[]> {
    if (this.valueNorms.length === 0) throw new Error('the session was opened without value norms');
    const out = await this.runWhole(ids, [...this.taps, ...this.valueNorms]);
    const n = ids.length;
    return this.taps.map((tap, layer) => {
      const probabilities = out[tap].data as Float32Array;
      const norms = out[this.valueNorms[layer]].data as Float32Array;
      const heads = norms.length / n;
      const rows = new Float32Array(heads * n * n);
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < n; i++) {
          const base = h * n * n + i * n;
          let total = 0;
          for (let j = 0; j <= i; j++) total += rows[base + j] = probabilities[base + j] * norms[h * n + j];
          if (total > 0) for (let j = 0; j <= i; j++) rows[base + j] /= total;
        }
      return rows;
    });
  }

  /** One pass: the whole sequence (no past), or its last token after the cache of the ones before. */
  /** One pass over all of `ids` with no past, fetching `outputs`; a failed run is a one-line EngineError. */
  private async runWhole(ids: readonly number[], outputs: string[]): Promise<ort.InferenceSession.OnnxValueMapType> {
    const feeds = prefillFeeds(
      this.runtime,
      this.session.inputNames.map((name) => ({ name, elemType: 0, shape: null })),
      ids,
      { kvHeads: this.config.kvHeads, headDim: this.config.headDim, metadata: this.session.inputMetadata },
    );
    try {
      return await this.session.run(feeds, outputs);
    } catch (error) {
      throw new EngineError(`Model run failed: ${firstLine(error)}`);
    }
  }

  /**
   * The rollout of a whole pass's n positions, kept for the tokens after them; `next` appends the next position
   * from its rows per layer ([heads × keys]) and returns its rollout rows (copies).
   */
  private async seedRollout(
    probabilities: readonly Float32Array[],
    n: number,
  ): Promise<{ rollout: RolloutRows; next(rows: readonly Float32Array[], keys: number): Float32Array[] }> {
    this.rolloutProduct ??= RolloutProduct.open(this.runtime);
    const pass = await (await this.rolloutProduct).whole(probabilities, n);
    const rollout = new RolloutRows(this.taps.length);
    rollout.seed(pass.matrices, n);
    return {
      rollout,
      next: (rows, keys) => rollout.push(rows.map((r) => headMean(r, keys))).map((r) => r.slice()),
    };
  }

  private async step(
    ids: readonly number[],
    past: Record<string, ort.Tensor> | null,
    keepWhole = false,
  ): Promise<StepOutput> {
    const { Tensor } = this.runtime;
    const inputs = this.session.inputNames.map((name) => ({ name, elemType: 0, shape: null }));
    const metadata = this.session.inputMetadata;
    const fedIds = past ? ids.slice(-1) : ids;
    const feeds = prefillFeeds(this.runtime, inputs, fedIds, {
      kvHeads: this.config.kvHeads,
      headDim: this.config.headDim,
      metadata,
    });
    if (past) {
      const start = ids.length - 1;
      const int = (name: string, values: number[], dims: number[]): ort.Tensor => {
        const meta = metadata.find((m) => m.name === name);
        return meta?.isTensor && meta.type === 'int32'
          ? new Tensor('int32', Int32Array.from(values), dims)
          : new Tensor(
              'int64',
              BigInt64Array.from(values, (v) => BigInt(v)),
              dims,
            );
      };
      if ('attention_mask' in feeds)
        feeds.attention_mask = int('attention_mask', new Array<number>(ids.length).fill(1), [1, ids.length]);
      if ('position_ids' in feeds) feeds.position_ids = int('position_ids', [start], [1, 1]);
      if ('use_cache_branch' in feeds)
        feeds.use_cache_branch = new Tensor('bool', Uint8Array.of(1), feeds.use_cache_branch.dims);
      for (const [input, output] of this.cache) feeds[input] = past[output];
    }
    const logitsName = this.session.outputNames.includes('logits') ? 'logits' : this.session.outputNames[0];
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(feeds, [logitsName, ...this.taps, ...this.valueNorms, ...this.cache.values()]);
    } catch (error) {
      throw new EngineError(`Model run failed: ${firstLine(error)}`);
    }
    const logitsTensor = out[logitsName] as ort.Tensor;
    if (logitsTensor.type !== 'float32')
      throw new EngineError(`The model's logits are ${logitsTensor.type}; generation reads float32 logits.`);
    const [, positions, vocab] = logitsTensor.dims;
    const all = logitsTensor.data as Float32Array;
    const logits = all.subarray((positions - 1) * vocab, positions * vocab);
    const keys = ids.length;
    const rows = this.taps.map((name) => lastRows(out[name] as ort.Tensor, keys, name));
    const presents: Record<string, ort.Tensor> = {};
    for (const output of this.cache.values()) presents[output] = out[output] as ort.Tensor;
    const whole = keepWhole && !past ? this.taps.map((name) => out[name].data as Float32Array) : undefined;
    // The norms of the keys this run fed (graph/valueNormGraph.ts's newKeysOnly): [1, heads, fed].
    const norms = this.valueNorms.map((name) => out[name].data as Float32Array);
    return {
      logits,
      vocab,
      rows,
      keys,
      presents,
      ...(whole ? { whole } : {}),
      fed: fedIds.length,
      ...(norms.length > 0 ? { norms } : {}),
    };
  }

  async dispose(): Promise<void> {
    const product = this.rolloutProduct;
    this.rolloutProduct = null;
    await this.session.release().catch(() => undefined);
    if (product) await (await product).release();
  }
}
