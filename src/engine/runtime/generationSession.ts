// The model writing an answer: the source graph with its attention probabilities exposed (attentionTap.ts,
// no statistics), continuing a prompt token by token, greedy or sampled (temperature, seeded), stoppable.
// Where the graph takes a cache (past_key_values inputs), each step feeds one token and the previous step's
// present key/values; a graph without one (the embedded proxy) runs the whole sequence again per step.
// Every answer token's attention is captured as it is fed: per layer, its row [heads × keys] over the
// prompt and the answer so far — the same rows the float64 reference decoder gives for that position. A
// given answer (readAnswer) is read in one pass over prompt + answer, its tokens' rows taken the same way.
// Each answer token also gets its exact attention rollout per layer (analysis/answerRollout.ts): the
// whole pass before it is rolled out by onnxruntime products, each token after it by the recursion over rows.
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
import { PAST_INPUT, prefillFeeds } from './prefillFeeds';
import { RolloutProduct } from './rolloutProduct';
import { headMean, RolloutRows } from '../analysis/answerRollout';

export interface GeneratedToken {
  /** Position in the answer (0 for its first token). */
  readonly index: number;
  readonly id: number;
  /** Per layer, this token's attention row per head: heads × keys, keys = prompt + answer tokens up to it. */
  readonly rows: readonly Float32Array[];
  readonly keys: number;
  /** Per layer, this token's attention rollout (answerRollout.ts) over the same keys: its own copies. */
  readonly rollout: readonly Float32Array[];
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
}

/** The present output that carries what a past input needs on the next step (present.N.key ↔ past_key_values.N.key). */
function presentFor(pastName: string, outputs: readonly string[]): string | undefined {
  const candidates = [
    pastName.replace(/^past_key_values/, 'present'),
    pastName.replace(/^past/, 'present'),
    pastName.replace(/^past_/, 'present_'),
  ];
  return candidates.find((c) => c !== pastName && outputs.includes(c));
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
      readonly valueNorms?: boolean;
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
    const model = decodeModel(await fs.readFile(resolved.file));
    const plan = planAttentionTap(model, config.layers, resolved.file);
    const valueNorms = options.valueNorms ? appendValueNorms(model, plan.outputNames, config.heads, resolved.file) : [];
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
    return new GenerationSession(session, runtime, config, plan.outputNames, cache, created.provider, valueNorms);
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
    let out = await this.step(ids, null, true);
    const rollout = await this.seedRollout(out.whole ?? [], ids.length);
    while (tokens.length < options.maxTokens && ids.length < limit) {
      if (options.isCancelled?.()) throw new GenerationCancelled();
      const next = pick(out);
      if (options.stop?.(next)) break;
      ids.push(next);
      out = await this.step(ids, this.kvCache ? out.presents : null);
      const keys = out.keys;
      const own = rollout.push(out.rows.map((r) => headMean(r, keys))).map((r) => r.slice());
      const token: GeneratedToken = { index: tokens.length, id: next, rows: out.rows, keys, rollout: own };
      tokens.push(token);
      options.onToken?.(token);
    }
    return tokens;
  }

  /**
   * A given answer read after `promptIds` in one pass (teacher forcing): each answer token's rows are those of
   * its position, over the prompt and the answer up to it — what generate captures for a token it wrote.
   */
  async readAnswer(promptIds: readonly number[], answerIds: readonly number[]): Promise<GeneratedToken[]> {
    const ids = [...promptIds, ...answerIds];
    if (ids.length > this.config.maxPositions)
      throw new EngineError(
        `The prompt and its answer have ${ids.length} tokens, more than the model's context of ${this.config.maxPositions}.`,
      );
    const out = await this.runWhole(ids, [...this.taps]);
    const n = ids.length;
    const probabilities = this.taps.map((tap) => {
      const tensor = out[tap] as ort.Tensor;
      if (tensor.dims.length !== 4 || tensor.dims[2] !== n || tensor.dims[3] !== n)
        throw new EngineError(
          `Attention output ${tap} has shape [${tensor.dims.join(', ')}], not [1, heads, ${n}, ${n}].`,
        );
      return tensor.data as Float32Array;
    });
    const rollout = await this.seedRollout(probabilities, n);
    return answerIds.map((id, index): GeneratedToken => {
      const q = promptIds.length + index;
      const keys = q + 1;
      const rows = probabilities.map((data) => {
        const heads = data.length / (n * n);
        const row = new Float32Array(heads * keys);
        for (let h = 0; h < heads; h++) row.set(data.subarray((h * n + q) * n, (h * n + q) * n + keys), h * keys);
        return row;
      });
      return { index, id, rows, keys, rollout: rollout.at(q).map((r) => r.slice()) };
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

  /** The rollout of a whole pass's n positions, kept for the tokens after them. */
  private async seedRollout(probabilities: readonly Float32Array[], n: number): Promise<RolloutRows> {
    this.rolloutProduct ??= RolloutProduct.open(this.runtime);
    const rollout = new RolloutRows(this.taps.length);
    rollout.seed(await (await this.rolloutProduct).whole(probabilities, n), n);
    return rollout;
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
      out = await this.session.run(feeds, [logitsName, ...this.taps, ...this.cache.values()]);
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
    return { logits, vocab, rows, keys, presents, ...(whole ? { whole } : {}) };
  }

  async dispose(): Promise<void> {
    const product = this.rolloutProduct;
    this.rolloutProduct = null;
    await this.session.release().catch(() => undefined);
    if (product) await (await product).release();
  }
}

/** The last query's row of every head from probabilities [1, heads, queries, keys]: heads × keys. */
function lastRows(tensor: ort.Tensor, keys: number, name: string): Float32Array {
  const dims = tensor.dims;
  const k = dims[dims.length - 1];
  const q = dims[dims.length - 2];
  if (dims.length !== 4 || k !== keys)
    throw new EngineError(`Attention output ${name} has shape [${dims.join(', ')}], not [1, heads, queries, ${keys}].`);
  const heads = dims[1];
  const data = tensor.data as Float32Array;
  const rows = new Float32Array(heads * keys);
  for (let h = 0; h < heads; h++) rows.set(data.subarray((h * q + q - 1) * k, (h * q + q) * k), h * keys);
  return rows;
}

export function argmax(logits: Float32Array, vocab: number): number {
  let best = 0;
  for (let v = 1; v < vocab; v++) if (logits[v] > logits[best]) best = v;
  return best;
}

/** A draw from softmax(logits / temperature), in float64. */
export function sample(logits: Float32Array, vocab: number, temperature: number, random: () => number): number {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (logits[v] > max) max = logits[v];
  const weights = new Float64Array(vocab);
  let total = 0;
  for (let v = 0; v < vocab; v++) total += weights[v] = Math.exp((logits[v] - max) / temperature);
  let r = random() * total;
  for (let v = 0; v < vocab; v++) {
    r -= weights[v];
    if (r <= 0) return v;
  }
  return vocab - 1;
}
