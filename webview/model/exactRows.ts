// Exact rows on demand in the view: for the focused token (direction "attends to", raw attention, one head or
// the mean over heads, one layer or the mean over layers) the worker computes the row from the Q and K it
// kept, so the shading and the tooltip are exact at any length instead of the compact rows' top 64 keys.
// Pure: which rows a focus needs, the replies kept per inspection, and the row they combine into.
import type { AttentionRowReply } from '../../src/shared/attentionRowRequest';
import { SINK_INDEX } from './aggregate';
import type { ControlValues } from './viewState';

export interface RowKey {
  readonly layer: number;
  /** A head, or null for the mean over the layer's heads. */
  readonly head: number | null;
  readonly query: number;
}

const keyOf = (k: RowKey): string => `${k.layer}|${k.head ?? 'mean'}|${k.query}`;

/** Replies kept at most (a hover sweep over a long prompt asks for many). */
const MAX_KEPT = 512;

export class ExactRowStore {
  private inspection = -1;
  private readonly rows = new Map<string, Float32Array>();
  private readonly asked = new Set<string>();
  /** Set once the host says this inspection has no rows to give (an old worker, a graph without Q/K). */
  private unavailable = false;

  /** A new inspection: the kept rows belong to the old one. */
  reset(inspection: number): void {
    this.inspection = inspection;
    this.rows.clear();
    this.asked.clear();
    this.unavailable = false;
  }

  /**
   * The rows a focus reads (none when the selection is not one the worker computes: rollout, the max over
   * heads, the "attended by" column, or no rows to be had).
   */
  needed(controls: ControlValues, query: number | null, layers: number): RowKey[] {
    if (query === null || this.unavailable || controls.mode !== 'attention' || controls.direction !== 'to') return [];
    if (controls.head === 'max') return [];
    const head = controls.head === 'mean' ? null : controls.head;
    const chosen = controls.layer === 'all' ? Array.from({ length: layers }, (_, l) => l) : [controls.layer];
    return chosen.map((layer) => ({ layer, head, query }));
  }

  /** Of `keys`, those not asked for yet (marked asked now). */
  toAsk(keys: readonly RowKey[]): RowKey[] {
    const out = keys.filter((k) => !this.asked.has(keyOf(k)));
    for (const k of out) this.asked.add(keyOf(k));
    return out;
  }

  /** Keeps a reply of this inspection; returns whether it was one (a late reply of another is dropped). */
  accept(reply: AttentionRowReply): boolean {
    if (reply.inspection !== this.inspection) return false;
    if (!reply.weights) {
      this.unavailable = true;
      return true;
    }
    if (this.rows.size >= MAX_KEPT) {
      this.rows.clear();
      this.asked.clear();
    }
    this.rows.set(keyOf(reply), reply.weights);
    return true;
  }

  /** The mean of `keys`' rows, then the sink hidden and the row renormalized if asked (as the matrix is),
   * or null until all have arrived. */
  combined(keys: readonly RowKey[], n: number, hideSink: boolean): Float32Array | null {
    if (keys.length === 0) return null;
    const found = keys.map((k) => this.rows.get(keyOf(k)));
    if (found.some((r) => r === undefined || r.length !== n)) return null;
    const out = new Float32Array(n);
    for (const row of found as Float32Array[]) for (let j = 0; j < n; j++) out[j] += row[j] / keys.length;
    if (hideSink) {
      out[SINK_INDEX] = 0;
      let rest = 0;
      for (let j = 0; j < n; j++) rest += out[j];
      const scale = rest > 1e-6 ? 1 / rest : 0;
      for (let j = 0; j < n; j++) out[j] *= scale;
    }
    return out;
  }
}
