// Exact attention rows on demand, from each layer's post-rotary Q and K kept after the run (fp16 or fp32):
// row q of head h is softmax(scale · q_h · K_{kv(h)}ᵀ) over keys 0..q (a sliding window and soft-capping as the
// layer's site says), the head mean is the mean of the heads' rows. One row costs q·headDim multiply-adds per
// head, so any row of any layer and head at any length is a few milliseconds; nothing n² is ever held.
// Pure: typed arrays in, typed arrays out (the worker holds one ExactRows per inspection). `rowAsync` hands the
// products to an injected RowKernel (onnxruntime's, runtime/rowKernel.ts: ~10× the plain loops below, which
// stay as the reference path and the fallback).
import { halfToFloatTable } from './halfFloat';
import { rolloutRows, type RolloutOptions } from './rolloutRows';

/** One layer's kept tensors: q [heads, n, d] and k [kvHeads, n, d], row-major, fp16 bits or float32. */
export interface LayerQK {
  readonly q: Uint16Array | Float32Array;
  readonly k: Uint16Array | Float32Array;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly slidingWindow: number | null;
  readonly softcap: number | null;
}

/** What a row graph is specialised on (the rest, heads and length, are the inputs' shapes). */
export interface RowKernelShape {
  readonly headDim: number;
  readonly scale: number;
  readonly softcap: number | null;
}

/**
 * Rows b of a layer's head mean times V: v [s, b] (query rows r0..r0+b−1 of V's columns) · M[r0..r0+b, 0..r1),
 * with q [heads, b, d] (float32, heads ordered kv-major), keys [kv, r1, d] and an additive mask [b, r1] (0 where
 * a key is attended: causal and sliding window; −∞ elsewhere). Returns [s, r1].
 */
export type RolloutBlock = (
  shape: RowKernelShape,
  q: Float32Array,
  heads: readonly [kv: number, group: number],
  keys: Float32Array,
  mask: Float32Array,
  v: Float32Array,
) => Promise<Float32Array>;

/**
 * Computes softmax rows and their mean elsewhere: q [kv, group, d] (float32) against keys [kv, n, d], each head
 * of group g reading kv head g's keys; keys first..query are kept (causal, sliding window), the rest weigh 0.
 * Returns the mean over the kv × group heads' rows, [n].
 */
export interface RowKernel {
  /** keys: float32, or the fp16 bits the inspection keeps them in (the kernel decodes them itself). */
  meanRow(
    shape: RowKernelShape,
    q: Float32Array,
    heads: readonly [kv: number, group: number],
    keys: Float32Array | Uint16Array,
    first: number,
    query: number,
  ): Promise<Float32Array>;
  /** Rollout rows' block product (rolloutRows.ts), where the kernel has one. */
  readonly rolloutBlock?: RolloutBlock;
  /** Starts getting ready for these shapes (keys kept in fp16 or not), without waiting (a failure shows at the
   * first row). */
  prepare?(shapes: readonly RowKernelShape[], halfKeys?: boolean): void;
  /** Settles once the kernel is ready for these shapes (what a first hover would otherwise wait for). */
  warm?(shapes: readonly RowKernelShape[], halfKeys?: boolean): Promise<void>;
}

function toFloat(data: Uint16Array | Float32Array, from: number, length: number, out: Float32Array): Float32Array {
  if (data instanceof Float32Array) {
    out.set(data.subarray(from, from + length));
    return out;
  }
  const table = halfToFloatTable();
  for (let i = 0; i < length; i++) out[i] = table[data[from + i]];
  return out;
}

export class ExactRows {
  /** Decoded keys of the layer asked for last (one layer: the hover moves along a layer). */
  private cachedLayer = -1;
  private cachedKeys: Float32Array | null = null;

  constructor(
    readonly n: number,
    private readonly layers: readonly LayerQK[],
    private readonly kernel: RowKernel | null = null,
  ) {}

  /** The distinct row-graph shapes of the layers (what a kernel makes sessions for). */
  get shapes(): RowKernelShape[] {
    const seen = new Map<string, RowKernelShape>();
    for (const l of this.layers)
      seen.set(`${l.headDim}|${l.scale}|${l.softcap}`, { headDim: l.headDim, scale: l.scale, softcap: l.softcap });
    return [...seen.values()];
  }

  /** Readies the kernel (the worker, once a run is done: the first hover then does not wait for it); settles when
   * it is ready or has failed (a failure shows at the first row). */
  async prepare(): Promise<void> {
    await this.kernel?.warm?.(this.shapes, this.halfKeys).catch(() => undefined);
  }

  /** Settles once the kernel can answer at once (the bench waits here, as a user's first hover comes later). */
  async ready(): Promise<void> {
    await this.kernel?.warm?.(this.shapes, this.halfKeys);
  }

  /** Whether the keys are kept in fp16 (what the kernel's row graphs read). */
  private get halfKeys(): boolean {
    return this.layers.some((l) => l.k instanceof Uint16Array);
  }

  get layerCount(): number {
    return this.layers.length;
  }

  heads(layer: number): number {
    return this.layers[layer]?.heads ?? 0;
  }

  /** Bytes held (what the worker keeps between the run and the next inspection). */
  get bytes(): number {
    return this.layers.reduce((sum, l) => sum + l.q.byteLength + l.k.byteLength, 0);
  }

  private keys(layer: number): Float32Array {
    const l = this.layers[layer];
    if (l.k instanceof Float32Array) return l.k; // kept in fp32: read as is
    if (this.cachedLayer === layer && this.cachedKeys) return this.cachedKeys;
    const length = l.kvHeads * this.n * l.headDim;
    this.cachedKeys = toFloat(l.k, 0, length, new Float32Array(length));
    this.cachedLayer = layer;
    return this.cachedKeys;
  }

  /**
   * The weights of query `query` over keys 0..n−1 (zero after the query): one head's, or with head null the
   * mean over heads. Throws a RangeError for a layer, head or query outside the inspection.
   */
  row(layer: number, head: number | null, query: number): Float32Array {
    const l = this.checked(layer, head, query);
    const out = new Float32Array(this.n);
    const scratch = new Float32Array(query + 1);
    if (head !== null) {
      this.headRow(layer, head, query, scratch);
      out.set(scratch);
      return out;
    }
    // The heads of one KV group read the same keys: each key is loaded once for the whole group.
    const group = l.heads / l.kvHeads;
    const d = l.headDim;
    const keys = this.keys(layer);
    const queries = new Float32Array(group * d);
    const scores = Array.from({ length: group }, () => new Float32Array(query + 1));
    for (let kv = 0; kv < l.kvHeads; kv++) {
      for (let g = 0; g < group; g++)
        toFloat(l.q, ((kv * group + g) * this.n + query) * d, d, queries.subarray(g * d, (g + 1) * d));
      for (let j = 0; j <= query; j++) {
        const base = (kv * this.n + j) * d;
        for (let g = 0; g < group; g++) scores[g][j] = dot(queries, g * d, keys, base, d);
      }
      for (let g = 0; g < group; g++) {
        softmaxRow(scores[g], query, l);
        for (let j = 0; j <= query; j++) out[j] += scores[g][j] / l.heads;
      }
    }
    return out;
  }

  /** As `row`, through the kernel when there is one (same weights, within float32 rounding). */
  async rowAsync(layer: number, head: number | null, query: number): Promise<Float32Array> {
    if (!this.kernel) return this.row(layer, head, query);
    const l = this.checked(layer, head, query);
    const n = this.n;
    const d = l.headDim;
    const group = l.heads / l.kvHeads;
    const keys = l.k; // as kept: the kernel reads fp16 bits itself
    const first = l.slidingWindow === null ? 0 : Math.max(0, query - l.slidingWindow + 1);
    if (head !== null) {
      const kv = Math.floor(head / group);
      const q = toFloat(l.q, (head * n + query) * d, d, new Float32Array(d));
      return this.kernel.meanRow(l, q, [1, 1], keys.subarray(kv * n * d, (kv + 1) * n * d), first, query);
    }
    const q = new Float32Array(l.heads * d);
    for (let h = 0; h < l.heads; h++) toFloat(l.q, (h * n + query) * d, d, q.subarray(h * d, (h + 1) * d));
    return this.kernel.meanRow(l, q, [l.kvHeads, group], keys, first, query);
  }

  /** Rollout rows up to `layer` for `queries`, computed from the kept Q and K (rolloutRows.ts): through the
   * kernel's block product where it has one; null if cancelled. */
  rolloutRows(layer: number, queries: readonly number[], options?: RolloutOptions): Promise<Float32Array[] | null> {
    return rolloutRows(this.n, this.layers, layer, queries, this.kernel, options);
  }

  private checked(layer: number, head: number | null, query: number): LayerQK {
    const l = this.layers[layer];
    if (!l) throw new RangeError(`no layer ${layer}`);
    if (!Number.isInteger(query) || query < 0 || query >= this.n) throw new RangeError(`no token ${query}`);
    if (head !== null && (!Number.isInteger(head) || head < 0 || head >= l.heads))
      throw new RangeError(`no head ${head}`);
    return l;
  }

  private headRow(layer: number, head: number, query: number, out: Float32Array): void {
    const l = this.layers[layer];
    const d = l.headDim;
    const n = this.n;
    const keys = this.keys(layer);
    const kv = Math.floor(head / (l.heads / l.kvHeads));
    const q = toFloat(l.q, (head * n + query) * d, d, new Float32Array(d));
    for (let j = 0; j <= query; j++) {
      const base = (kv * n + j) * d;
      out[j] = dot(q, 0, keys, base, d);
    }
    softmaxRow(out, query, l);
  }
}

/** a[at..at+d) · b[base..base+d), four partial sums (independent chains: about 1.5× a single sum in V8). */
function dot(a: Float32Array, at: number, b: Float32Array, base: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let c = 0;
  for (; c + 3 < d; c += 4) {
    s0 += a[at + c] * b[base + c];
    s1 += a[at + c + 1] * b[base + c + 1];
    s2 += a[at + c + 2] * b[base + c + 2];
    s3 += a[at + c + 3] * b[base + c + 3];
  }
  for (; c < d; c++) s0 += a[at + c] * b[base + c];
  return s0 + s1 + (s2 + s3);
}

/** Raw dot products q·k_j (j ≤ query) in place → weights: the scale, soft-capping, window and softmax. */
function softmaxRow(row: Float32Array, query: number, l: LayerQK): void {
  const first = l.slidingWindow === null ? 0 : Math.max(0, query - l.slidingWindow + 1);
  let max = -Infinity;
  for (let j = first; j <= query; j++) {
    let s = row[j] * l.scale;
    if (l.softcap !== null) s = l.softcap * Math.tanh(s / l.softcap);
    row[j] = s;
    if (s > max) max = s;
  }
  let sum = 0;
  for (let j = 0; j <= query; j++) {
    const e = j < first ? 0 : Math.exp(row[j] - max);
    row[j] = e;
    sum += e;
  }
  for (let j = 0; j <= query; j++) row[j] /= sum;
}
