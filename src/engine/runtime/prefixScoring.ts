// Answer scoring on a graph with a KV cache, the one prefixCache.ts adds or the export's own: the longest
// sequence of a call (the whole prompt) runs in full and keeps its present keys and values; every other
// sequence runs only from where it leaves that one (the first ablated token), with the unchanged prefix's
// keys and values as the past. Each run is batch 1, so nothing is padded. With the added cache, the whole
// prompt's pass also keeps what attribution reads of its attention (received per key, the kept rows'
// probabilities), so no separate attention pass is needed. An export's own cache is trusted only after its
// first run from a past matched the same sequence run whole (a mask that ignores the past would not).
import type * as ort from 'onnxruntime-node';
import { EngineError } from '../engineError';
import { LOGITS_KEEP_INPUT } from '../graph/logitsSlice';
import {
  ALL_LAST_LAYER_ROWS,
  keptRowsName,
  LAST_LAYER_ROWS_INPUT,
  receivedName,
  type PrefixCacheGraph,
} from '../graph/prefixCache';
import { firstLine } from './modelTokenizer';
import type { FeedInput, FeedOptions } from './prefillFeeds';
import { PAST_INPUT, prefillFeeds } from './prefillFeeds';
import { presentFor } from './decodeStep';
import type { ScoredSequence } from './logitsSession';

/** What a whole-prompt pass saw of its attention. */
export interface PassAttention {
  /** Per layer, attention received per key, mean over heads and all queries. */
  readonly received: readonly Float32Array[];
  /** Over layers, heads and the queries from..to, the mean attention row (length ids.length). */
  readonly meanRow: Float64Array;
}

interface Base {
  readonly ids: readonly number[];
  /** In the order of PrefixCacheGraph.caches, each [1, kv, n, d]. */
  readonly presents: readonly ort.Tensor[];
}

/** Largest difference in nats per token between a run from a past and the same sequence run whole. */
const NATIVE_CHECK_NATS = 5e-3;

interface KeptAttention {
  readonly ids: readonly number[];
  readonly received: Float32Array[];
  /** Per layer [heads, keep, n]. */
  readonly rows: Float32Array[];
  readonly heads: number;
  readonly keep: number;
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** The first `length` positions of a present tensor [1, kv, n, d] as a past [1, kv, length, d]. */
function prefixOf(runtime: Pick<typeof ort, 'Tensor'>, present: ort.Tensor, length: number): ort.Tensor {
  const [, heads, n, d] = present.dims;
  const source = present.data as Float32Array | Uint16Array;
  const out = present.type === 'float16' ? new Uint16Array(heads * length * d) : new Float32Array(heads * length * d);
  for (let h = 0; h < heads; h++) out.set(source.subarray(h * n * d, (h * n + length) * d), h * length * d);
  return new runtime.Tensor(present.type as 'float32', out as Float32Array, [1, heads, length, d]);
}

export class PrefixScorer {
  private base: Base | null = null;
  private attention: KeptAttention | null = null;
  /** An export's own cache: null until checked, then whether runs from a past match whole runs. */
  private nativeMatches: boolean | null = null;
  /** Why runs from a past were turned off (an export's cache that failed the check), for the log. */
  disabledReason: string | null = null;

  get native(): boolean {
    return this.graph.native;
  }

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly runtime: Pick<typeof ort, 'Tensor'>,
    private readonly inputs: readonly FeedInput[],
    private readonly feedOptions: FeedOptions,
    private readonly graph: PrefixCacheGraph,
    private readonly logSoftmaxAt: (logits: Float32Array, base: number, vocab: number, token: number) => number,
  ) {}

  /**
   * Per sequence, the log-probability of each answer token. `reuse`: sequences may also start from the
   * previous call's whole prompt (the savings run after the ablations); else the call's longest runs whole.
   */
  async score(
    sequences: readonly ScoredSequence[],
    onRun: ((done: number) => void) | undefined,
    checkCancelled: () => void,
    reuse: boolean,
  ): Promise<Float64Array[]> {
    const results = new Array<Float64Array>(sequences.length);
    const order = sequences.map((_, i) => i).sort((a, b) => sequences[b].ids.length - sequences[a].ids.length);
    let base = reuse ? this.base : null;
    let ownBase = false;
    let done = 0;
    for (const index of order) {
      checkCancelled();
      const seq = sequences[index];
      if (seq.answerStart < 1) throw new Error('an answer needs at least one token before it');
      const reusable = base !== null && this.nativeMatches !== false;
      const past = reusable && base ? Math.min(commonPrefix(base.ids, seq.ids), seq.answerStart - 1) : 0;
      // The call's first whole run (its longest sequence) is the prefix the others start from.
      const becomesBase = past === 0 && !ownBase;
      let scores: Float64Array;
      if (past > 0 && base && this.graph.native && this.nativeMatches === null) {
        scores = await this.checkNative(seq, base, past);
      } else {
        const { logits, outputs } = await this.run(seq, past > 0 ? base : null, past, becomesBase);
        if (becomesBase) {
          ownBase = true;
          base = { ids: seq.ids, presents: this.graph.caches.map((c) => outputs[c.present] as ort.Tensor) };
          this.base = base;
          this.keepAttention(seq.ids, outputs);
        }
        scores = this.scores(seq, logits);
      }
      results[index] = scores;
      onRun?.(++done);
    }
    return results;
  }

  /** The first run from a past on an export's own cache, checked against the same sequence run whole. */
  private async checkNative(seq: ScoredSequence, base: Base, past: number): Promise<Float64Array> {
    const whole = this.scores(seq, (await this.run(seq, null, 0, false)).logits);
    let fromPast: Float64Array | null = null;
    try {
      fromPast = this.scores(seq, (await this.run(seq, base, past, false)).logits);
    } catch (error) {
      this.disabledReason = `a run from the cache failed: ${firstLine(error)}`;
    }
    if (fromPast) {
      const worst = fromPast.reduce((w, v, j) => Math.max(w, Math.abs(v - whole[j])), 0);
      if (!(worst <= NATIVE_CHECK_NATS))
        this.disabledReason = `a run from the cache differed from the whole run by ${worst.toPrecision(3)} nats`;
    }
    this.nativeMatches = this.disabledReason === null;
    return whole;
  }

  private scores(seq: ScoredSequence, logits: ort.Tensor): Float64Array {
    const answer = seq.ids.length - seq.answerStart;
    const [, positions, vocab] = logits.dims;
    const data = logits.data as Float32Array;
    const scores = new Float64Array(answer);
    // Logits at position p predict token p + 1; the kept rows are the sequence's last `positions`.
    for (let j = 0; j < answer; j++) {
      const row = seq.answerStart - 1 + j - (seq.ids.length - positions);
      scores[j] = this.logSoftmaxAt(data, row * vocab, vocab, seq.ids[seq.answerStart + j]);
    }
    return scores;
  }

  /** The attention of the last whole-prompt pass over exactly `ids`, for the queries from..to; else null. */
  attentionOf(ids: readonly number[], from: number, to: number): PassAttention | null {
    const kept = this.attention;
    const n = ids.length;
    if (!kept || kept.ids.length !== n || commonPrefix(kept.ids, ids) !== n) return null;
    const first = n - kept.keep;
    if (from < first || to >= n || from > to) return null;
    const meanRow = new Float64Array(n);
    let rows = 0;
    for (const layer of kept.rows) {
      for (let h = 0; h < kept.heads; h++) {
        for (let q = from; q <= to; q++) {
          const at = (h * kept.keep + (q - first)) * n;
          for (let k = 0; k <= q; k++) meanRow[k] += layer[at + k];
          rows++;
        }
      }
    }
    for (let k = 0; k < n; k++) meanRow[k] /= Math.max(1, rows);
    return { received: kept.received.map((r) => r.slice()), meanRow };
  }

  clear(): void {
    this.base = null;
    this.attention = null;
  }

  private keepAttention(ids: readonly number[], outputs: ort.InferenceSession.OnnxValueMapType): void {
    if (!this.graph.attention) return;
    const received: Float32Array[] = [];
    const rows: Float32Array[] = [];
    let heads = 0;
    let keep = 0;
    for (let l = 0; l < this.graph.layers; l++) {
      received.push(Float32Array.from((outputs[receivedName(l)] as ort.Tensor).data as Float32Array));
      const kept = outputs[keptRowsName(l)] as ort.Tensor;
      [, heads, keep] = kept.dims;
      rows.push(kept.data as Float32Array);
    }
    this.attention = { ids, received, rows, heads, keep };
  }

  private async run(
    seq: ScoredSequence,
    base: Base | null,
    past: number,
    whole: boolean,
  ): Promise<{ logits: ort.Tensor; outputs: ort.InferenceSession.OnnxValueMapType }> {
    const { Tensor } = this.runtime;
    const fed = seq.ids.slice(past);
    const total = seq.ids.length;
    const keep = total - seq.answerStart + 1;
    const feeds = prefillFeeds(this.runtime, this.inputs, fed, this.feedOptions);
    const int64 = (values: readonly number[]): ort.Tensor =>
      new Tensor(
        'int64',
        BigInt64Array.from(values, (v) => BigInt(v)),
        [1, values.length],
      );
    const typed = (name: string, values: readonly number[]): ort.Tensor =>
      feeds[name].type === 'int32' ? new Tensor('int32', Int32Array.from(values), [1, values.length]) : int64(values);
    feeds.attention_mask = typed('attention_mask', new Array<number>(total).fill(1));
    if ('position_ids' in feeds)
      feeds.position_ids = typed(
        'position_ids',
        fed.map((_, i) => past + i),
      );
    if (this.graph.logitsKeep) feeds[LOGITS_KEEP_INPUT] = new Tensor('int64', BigInt64Array.of(BigInt(-keep)), [1]);
    if ('use_cache_branch' in feeds)
      feeds.use_cache_branch = new Tensor('bool', Uint8Array.of(past > 0 ? 1 : 0), feeds.use_cache_branch.dims);
    // The whole prompt's pass needs every row of the last layer (its attention received over all queries).
    if (!this.graph.native)
      feeds[LAST_LAYER_ROWS_INPUT] = new Tensor(
        'int64',
        BigInt64Array.of(BigInt(whole ? ALL_LAST_LAYER_ROWS : -keep)),
        [1],
      );
    if (base) this.graph.caches.forEach((c, i) => (feeds[c.past] = prefixOf(this.runtime, base.presents[i], past)));
    const fetches = [this.graph.logits];
    if (whole) {
      fetches.push(...this.graph.caches.map((c) => c.present));
      if (this.graph.attention)
        for (let l = 0; l < this.graph.layers; l++) fetches.push(receivedName(l), keptRowsName(l));
    }
    let outputs: ort.InferenceSession.OnnxValueMapType;
    try {
      outputs = await this.session.run(feeds, fetches);
    } catch (error) {
      throw new EngineError(`Model run failed: ${firstLine(error)}`);
    }
    const logits = outputs[this.graph.logits] as ort.Tensor;
    if (logits.type !== 'float32')
      throw new EngineError(`The model's logits are ${logits.type}; attribution reads float32 logits.`);
    return { logits, outputs };
  }
}

/**
 * An export's own cache as a PrefixCacheGraph: every past input 4-D with the sequence on axis 2
 * ([b, kv, past, d]) and paired with a present output, and an attention_mask over past + new tokens. Else null.
 */
export function nativePrefixCache(
  session: Pick<ort.InferenceSession, 'inputNames' | 'outputNames' | 'inputMetadata'>,
  logits: string,
  logitsKeep: boolean,
): PrefixCacheGraph | null {
  const pasts = session.inputNames.filter((n) => PAST_INPUT.test(n));
  if (pasts.length === 0 || !session.inputNames.includes('attention_mask')) return null;
  const caches: { past: string; present: string }[] = [];
  for (const past of pasts) {
    const meta = session.inputMetadata.find((m) => m.name === past);
    const present = presentFor(past, session.outputNames);
    if (!meta?.isTensor || meta.shape.length !== 4 || typeof meta.shape[2] === 'number' || !present) return null;
    if (meta.type !== 'float32' && meta.type !== 'float16') return null;
    caches.push({ past, present });
  }
  return { layers: 0, caches, attention: false, lastLayerRows: false, native: true, logits, logitsKeep };
}
