// A plain (untapped) session of the source model, for what attribution needs: the log-probability of an
// answer's tokens after a prompt, for many prompts at once (batched, padded), and greedy generation. The
// LM head reads only the last positions (graph/logitsSlice.ts) when the graph allows it and the weights
// are inline; sequences are then left-padded so every row's answer sits at the same final positions.
// Where the graph takes a KV cache, its own or one graph/prefixCache.ts adds to a plain torch export, the
// sequences run one by one from the longest's keys and values instead (runtime/prefixScoring.ts): an
// ablation only from its first left-out token.
import * as fs from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import type { ExecutionProviderName, ExecutionProviderSetting } from '../../shared/protocol';
import { EngineError } from '../engineError';
import { decodeModel } from '../graph/onnxGraph';
import { encodeSliced, LOGITS_KEEP_INPUT, sliceLogitsInput } from '../graph/logitsSlice';
import type { ProviderOptions, ProviderSession } from './executionProviders';
import { createSession } from './executionProviders';
import type { ModelConfig } from './modelConfig';
import type { ModelDtype } from './modelFiles';
import { resolveModelFile } from './modelFiles';
import { firstLine } from './modelTokenizer';
import { PAST_INPUT, prefillFeeds } from './prefillFeeds';
import { addPrefixCache, LAST_LAYER_ROWS_INPUT, type PrefixCacheGraph } from '../graph/prefixCache';
import { nativePrefixCache, PrefixScorer, type PassAttention } from './prefixScoring';

export interface ScoredSequence {
  /** Prompt ids followed by the answer's ids. */
  readonly ids: readonly number[];
  /** Where the answer starts in `ids` (≥ 1: the first answer token needs a position before it). */
  readonly answerStart: number;
}

export interface LogitsOpenOptions {
  readonly provider: ExecutionProviderSetting;
  readonly dtype?: ModelDtype;
  readonly providerOptions?: ProviderOptions;
  /** Turn off the LM-head slice (tests compare both paths). */
  readonly fullLogits?: boolean;
  /** Turn off the prefix cache (prefixCache.ts) and score every sequence whole (tests compare both paths). */
  readonly noPrefixCache?: boolean;
}

/** Bytes of logits and attention activations one batch may hold. */
const BATCH_BUDGET_BYTES = 256 * 1024 * 1024;
const MAX_BATCH_ROWS = 16;

interface InputInfo {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

/** Inputs the engine's own rewrites add (logitsSlice.ts, prefixCache.ts), fed here rather than by prefillFeeds. */
const OWN_INPUTS = new Set([LOGITS_KEEP_INPUT, LAST_LAYER_ROWS_INPUT]);

/** num_logits_to_keep (optimum, transformers.js exports): the graph slices the LM head itself. */
const NATIVE_KEEP = /^(?:num_)?logits_to_keep$/;

function inputInfos(session: ort.InferenceSession): InputInfo[] {
  return session.inputNames.map((name) => {
    const m = session.inputMetadata.find((x) => x.name === name);
    return { name, type: m && m.isTensor ? m.type : 'int64', shape: m && m.isTensor ? m.shape : [] };
  });
}

export class LogitsSession {
  /** Where the graph was given a prefix cache: the ablations start from the whole prompt's keys and values. */
  private readonly prefix: PrefixScorer | null;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly runtime: typeof ort,
    private readonly inputs: readonly InputInfo[],
    private readonly metadata: readonly ort.InferenceSession.ValueMetadata[],
    private readonly config: ModelConfig,
    /** The LM head reads only the last positions. */
    readonly sliced: boolean,
    readonly provider: ExecutionProviderName,
    readonly fallbackReason: string | undefined,
    /** The graph file that runs. */
    readonly file: string,
    prefixGraph: PrefixCacheGraph | null,
  ) {
    this.prefix = prefixGraph
      ? new PrefixScorer(
          session,
          runtime,
          inputs.filter((i) => !OWN_INPUTS.has(i.name)).map((i) => ({ name: i.name, elemType: 0, shape: null })),
          { kvHeads: config.kvHeads, headDim: config.headDim, metadata },
          prefixGraph,
          logSoftmaxAt,
        )
      : null;
  }

  /** Whether ablations reuse the unchanged prefix's keys and values. */
  get prefixCache(): boolean {
    return this.prefix !== null && this.prefix.disabledReason === null;
  }

  /** The export's own cache is used (else one the engine added, or none); why it was turned off, if it was. */
  get prefixCacheStatus(): { readonly native: boolean; readonly disabledReason: string | null } | null {
    return this.prefix ? { native: this.prefix.native, disabledReason: this.prefix.disabledReason } : null;
  }

  static async open(folder: string, config: ModelConfig, options: LogitsOpenOptions): Promise<LogitsSession> {
    const runtime = await import('onnxruntime-node');
    const resolved = await resolveModelFile(folder, options.dtype ?? 'auto', {
      gpu: options.provider !== 'cpu' && options.provider !== 'auto',
    });
    // External weights resolve relative to the graph's path, so only inline graphs are rewritten in memory.
    const rewrite = async (
      withPrefix: boolean,
    ): Promise<{ bytes: Uint8Array; prefix: PrefixCacheGraph | null } | null> => {
      if (options.fullLogits || resolved.externalData.length > 0) return null;
      try {
        const model = decodeModel(await fs.readFile(resolved.file));
        if (!sliceLogitsInput(model)) return null;
        const prefix = withPrefix ? addPrefixCache(model, LOGITS_KEEP_INPUT) : null;
        return { bytes: encodeSliced(model), prefix };
      } catch {
        return null;
      }
    };
    const create = (bytes: Uint8Array | null): Promise<ProviderSession> =>
      createSession(
        resolved.file,
        options.provider,
        bytes
          ? {
              ...options.providerOptions,
              create: (_file, sessionOptions) => runtime.InferenceSession.create(bytes, sessionOptions),
            }
          : options.providerOptions,
      );
    let rewritten = await rewrite(!options.noPrefixCache);
    let created: ProviderSession;
    try {
      created = await create(rewritten?.bytes ?? null);
    } catch (error) {
      if (!rewritten?.prefix) throw new EngineError(`Cannot load model ${resolved.file}: ${firstLine(error)}`);
      // A prefix-cache graph onnxruntime refuses: score every sequence whole instead.
      rewritten = await rewrite(false);
      try {
        created = await create(rewritten?.bytes ?? null);
      } catch (again) {
        throw new EngineError(`Cannot load model ${resolved.file}: ${firstLine(again)}`);
      }
    }
    const session = created.session;
    const logitsName = session.outputNames.includes('logits') ? 'logits' : session.outputNames[0];
    const prefixGraph =
      rewritten?.prefix ??
      (options.noPrefixCache
        ? null
        : nativePrefixCache(session, logitsName, session.inputNames.includes(LOGITS_KEEP_INPUT)));
    const inputs = inputInfos(created.session);
    const sliced = !options.fullLogits && inputs.some((i) => i.name === LOGITS_KEEP_INPUT || NATIVE_KEEP.test(i.name));
    return new LogitsSession(
      created.session,
      runtime,
      inputs,
      created.session.inputMetadata,
      config,
      sliced,
      created.provider,
      created.fallbackReason,
      resolved.file,
      prefixGraph,
    );
  }

  /** Left padding needs explicit positions; without a position_ids input rows are right-padded. */
  private get leftPad(): boolean {
    return this.sliced && this.inputs.some((i) => i.name === 'position_ids');
  }

  private feeds(
    rows: readonly (readonly number[])[],
    keep: number,
  ): { feeds: Record<string, ort.Tensor>; offsets: number[]; length: number } {
    const { Tensor } = this.runtime;
    const b = rows.length;
    const length = Math.max(...rows.map((r) => r.length));
    const left = this.leftPad;
    const offsets = rows.map((r) => (left ? length - r.length : 0));
    const ids = new Array<number>(b * length).fill(0);
    const mask = new Array<number>(b * length).fill(0);
    const positions = new Array<number>(b * length).fill(0);
    rows.forEach((r, row) => {
      for (let i = 0; i < r.length; i++) {
        const at = row * length + offsets[row] + i;
        ids[at] = r[i];
        mask[at] = 1;
        positions[at] = i;
      }
    });
    // The graph's other inputs (cache, merged-decoder branch) as one prefill feeds them, then widened to the batch.
    const others = this.inputs.filter((i) => !OWN_INPUTS.has(i.name));
    const feeds = prefillFeeds(
      this.runtime,
      others.map((i) => ({ name: i.name, elemType: 0, shape: null })),
      rows[0],
      {
        kvHeads: this.config.kvHeads,
        headDim: this.config.headDim,
        metadata: this.metadata,
      },
    );
    const ints = (input: InputInfo, values: readonly number[]): ort.Tensor =>
      input.type === 'int32'
        ? new Tensor('int32', Int32Array.from(values), [b, length])
        : new Tensor(
            'int64',
            BigInt64Array.from(values, (v) => BigInt(v)),
            [b, length],
          );
    for (const input of this.inputs) {
      const name = input.name;
      if (name === 'input_ids') feeds[name] = ints(input, ids);
      else if (name === 'attention_mask') feeds[name] = ints(input, mask);
      else if (name === 'position_ids') feeds[name] = ints(input, positions);
      else if (name === 'token_type_ids') feeds[name] = ints(input, new Array<number>(b * length).fill(0));
      else if (name === LOGITS_KEEP_INPUT || name === LAST_LAYER_ROWS_INPUT)
        feeds[name] = new Tensor('int64', BigInt64Array.of(BigInt(-keep)), [1]);
      else if (NATIVE_KEEP.test(name) && this.sliced) {
        const old = feeds[name];
        feeds[name] =
          input.type === 'int32'
            ? new Tensor('int32', Int32Array.of(keep), old.dims)
            : new Tensor('int64', BigInt64Array.of(BigInt(keep)), old.dims);
      } else if (PAST_INPUT.test(name) && b > 1) {
        const old = feeds[name];
        feeds[name] = new Tensor(old.type, old.data, [b, ...old.dims.slice(1)] as number[]);
      }
    }
    return { feeds, offsets, length };
  }

  private async logits(
    rows: readonly (readonly number[])[],
    keep: number,
  ): Promise<{ data: Float32Array; positions: number; vocab: number; offsets: number[]; length: number }> {
    const { feeds, offsets, length } = this.feeds(rows, keep);
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await this.session.run(feeds, [
        this.session.outputNames.includes('logits') ? 'logits' : this.session.outputNames[0],
      ]);
    } catch (error) {
      throw new EngineError(`Model run failed: ${firstLine(error)}`);
    }
    const tensor = Object.values(out)[0] as ort.Tensor;
    if (tensor.type !== 'float32')
      throw new EngineError(`The model's logits are ${tensor.type}; attribution reads float32 logits.`);
    const [, positions, vocab] = tensor.dims;
    return { data: tensor.data as Float32Array, positions, vocab, offsets, length };
  }

  /** Rows that fit one batch for sequences of this length. */
  private batchRows(length: number, keep: number): number {
    const vocab = this.config.vocabSize ?? 32_000;
    const perRow = (this.sliced ? keep : length) * vocab * 4 + this.config.heads * length * length * 4 * 2;
    return Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(BATCH_BUDGET_BYTES / perRow)));
  }

  /**
   * Per sequence, the log-probability of each answer token (float64 log-softmax). Sequences run in batches
   * (with a prefix cache, one run each); `onBatch` is told after each, and `isCancelled` is asked before each.
   * `reusePrefix`: with a prefix cache, the sequences may also start from the previous call's longest.
   */
  async answerLogProbs(
    sequences: readonly ScoredSequence[],
    onBatch?: (done: number) => void,
    isCancelled?: () => boolean,
    options: { readonly reusePrefix?: boolean } = {},
  ): Promise<Float64Array[]> {
    if (this.prefix) {
      const check = (): void => {
        if (isCancelled?.()) throw new AttributionCancelled();
      };
      return this.prefix.score(sequences, onBatch, check, options.reusePrefix ?? false);
    }
    const results = new Array<Float64Array>(sequences.length);
    // Longest first; equal lengths share a batch.
    const order = sequences.map((_, i) => i).sort((a, b) => sequences[b].ids.length - sequences[a].ids.length);
    let done = 0;
    while (done < order.length) {
      if (isCancelled?.()) throw new AttributionCancelled();
      const first = sequences[order[done]];
      const answer = first.ids.length - first.answerStart;
      const rows = this.batchRows(first.ids.length, answer + 1);
      // Only sequences of one length share a batch: padding cost more than batching saved (leave-one-out's
      // ablations differ in length; on the 512-token, 8-section bench its ten scoring passes took 490 ms
      // padded into one batch against 340 ms one by one, 2 CPU cores).
      let end = done + 1;
      while (end < order.length && end - done < rows && sequences[order[end]].ids.length === first.ids.length) end++;
      const batch = order.slice(done, end);
      for (const i of batch) {
        if (sequences[i].answerStart < 1) throw new Error('an answer needs at least one token before it');
        if (sequences[i].ids.length - sequences[i].answerStart !== answer)
          throw new Error('sequences in one call share the answer length');
      }
      const run = await this.logits(
        batch.map((i) => sequences[i].ids),
        answer + 1,
      );
      batch.forEach((seqIndex, row) => {
        const seq = sequences[seqIndex];
        const scores = new Float64Array(answer);
        for (let j = 0; j < answer; j++) {
          // Logits at position p predict token p + 1.
          const absolute = run.offsets[row] + seq.answerStart - 1 + j;
          const position = this.sliced ? absolute - (run.length - run.positions) : absolute;
          scores[j] = logSoftmaxAt(
            run.data,
            (row * run.positions + position) * run.vocab,
            run.vocab,
            seq.ids[seq.answerStart + j],
          );
        }
        results[seqIndex] = scores;
      });
      done += batch.length;
      onBatch?.(done);
    }
    return results;
  }

  /** Greedy continuation of `ids`: at most `max` tokens, stopping before a token `stop` accepts. */
  async generate(
    ids: readonly number[],
    max: number,
    stop: (id: number) => boolean,
    limit: number,
    isCancelled?: () => boolean,
  ): Promise<number[]> {
    const out: number[] = [];
    const current = [...ids];
    while (out.length < max && current.length < limit) {
      if (isCancelled?.()) throw new AttributionCancelled();
      const run = await this.logits([current], 1);
      const position = this.sliced ? run.positions - 1 : current.length - 1;
      const base = position * run.vocab;
      let best = 0;
      for (let v = 1; v < run.vocab; v++) if (run.data[base + v] > run.data[base + best]) best = v;
      if (stop(best)) break;
      out.push(best);
      current.push(best);
    }
    return out;
  }

  /**
   * The attention of the last whole-prompt pass, when it ran exactly `ids` (the answer scored after the
   * prompt): per layer the attention received per key, and the mean row of the queries from..to; else null.
   */
  passAttention(ids: readonly number[], from: number, to: number): PassAttention | null {
    return this.prefix?.attentionOf(ids, from, to) ?? null;
  }

  async dispose(): Promise<void> {
    this.prefix?.clear();
    await this.session.release().catch(() => undefined);
  }
}

export class AttributionCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/** log softmax(logits[base .. base + vocab))[token], in float64. */
export function logSoftmaxAt(logits: Float32Array, base: number, vocab: number, token: number): number {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (logits[base + v] > max) max = logits[base + v];
  let sum = 0;
  for (let v = 0; v < vocab; v++) sum += Math.exp(logits[base + v] - max);
  return logits[base + token] - max - Math.log(sum);
}
