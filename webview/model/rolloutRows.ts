// Rollout rows on demand in the view: where the inspection's layers came without rollout rows (long inputs: the
// graph computes none), Rollout mode asks the worker for the rows on screen and the focused one, which it
// computes in the background from the Q and K it kept (rolloutRowsRequest.ts). Until they come, a plain line says
// so with the layers done; then the focus shades from the exact row. Nothing waits for them: the first paint
// draws the overview as before. Pure: which rows to ask for, the replies and progress kept per inspection, the
// row a focus reads (sink hidden as the matrix hides it), and the line to show.
import type { LayerAttention } from '../../src/shared/protocol';
import {
  MAX_ROLLOUT_QUERIES,
  type RolloutRowsProgress,
  type RolloutRowsReply,
} from '../../src/shared/rolloutRowsRequest';
import { hideSinkRow } from './aggregate';
import type { ControlValues } from './viewState';

/** Rows kept at most (a few screens of a long prompt); the oldest layer's go first. */
const MAX_KEPT = 4096;

export interface RolloutAsk {
  readonly layer: number;
  readonly queries: readonly number[];
}

export class RolloutRowStore {
  private inspection = -1;
  /** By layer, then query. */
  private readonly rows = new Map<number, Map<number, Float32Array>>();
  private kept = 0;
  /** The request in flight (the latest sent): its id, what it asks, its progress. */
  private pending: { id: number; ask: RolloutAsk; queries: Set<number>; done: number; of: number } | null = null;
  /** One line when the worker could not give rows (the inspection is gone, or no Q and K were kept). */
  private failure: string | null = null;

  /** A new inspection: the kept rows belong to the old one. */
  reset(inspection: number): void {
    this.inspection = inspection;
    this.rows.clear();
    this.kept = 0;
    this.pending = null;
    this.failure = null;
  }

  /**
   * The layer whose rollout rows must come on demand for this selection, or null: not Rollout mode, "attended
   * by" (a column needs every row), the layer not arrived yet, or its rollout rows came with it.
   */
  layerFor(controls: ControlValues, layers: readonly (LayerAttention | undefined)[], count: number): number | null {
    if (controls.mode !== 'rollout' || controls.direction !== 'to' || this.failure !== null) return null;
    const layer = controls.layer === 'all' ? count - 1 : controls.layer;
    const arrived = layers[layer];
    if (!arrived || arrived.rollout.k > 0) return null;
    return layer;
  }

  /**
   * What to ask for so that `layer`'s rows of the tokens on screen [first, end) and the focused one are held or
   * on the way; null when they already are. The focus comes first, then the screen from its top, at most
   * MAX_ROLLOUT_QUERIES rows. A hovered token off the rows in flight waits for them (a sweep of the pointer would
   * otherwise restart the work at every token); a pinned one, or a new screen, supersedes them.
   */
  toAsk(layer: number, screen: readonly [number, number], focus: number | null, pinned: boolean): RolloutAsk | null {
    const held = this.rows.get(layer);
    const wanted: number[] = [];
    const seen = new Set<number>();
    const add = (q: number): void => {
      if (seen.has(q) || held?.has(q) || wanted.length >= MAX_ROLLOUT_QUERIES) return;
      seen.add(q);
      wanted.push(q);
    };
    if (focus !== null) add(focus);
    for (let q = screen[0]; q < screen[1]; q++) add(q);
    if (wanted.length === 0) return null;
    const pending = this.pending;
    if (pending && pending.ask.layer === layer) {
      const rest = wanted.filter((q) => !pending.queries.has(q));
      if (rest.length === 0 || (!pinned && rest.length === 1 && rest[0] === focus)) return null;
    }
    return { layer, queries: wanted };
  }

  /** The ask went out as request `id`: it supersedes the one in flight. */
  sent(id: number, ask: RolloutAsk): void {
    this.pending = { id, ask, queries: new Set(ask.queries), done: 0, of: ask.layer + 1 };
  }

  /** Progress of the request in flight; returns whether it was its (a superseded request's is dropped). */
  progress(p: RolloutRowsProgress): boolean {
    if (p.inspection !== this.inspection || this.pending?.id !== p.inReplyTo) return false;
    this.pending.done = p.done;
    this.pending.of = p.of;
    return true;
  }

  /** Keeps a reply of this inspection; returns whether it was one. */
  accept(reply: RolloutRowsReply): boolean {
    if (reply.inspection !== this.inspection) return false;
    if (this.pending?.id === reply.inReplyTo) this.pending = null;
    if (!reply.rows) {
      // A superseded request says so; any other error means no rows will come for this inspection.
      if (reply.error && !reply.error.startsWith('Stopped')) this.failure = reply.error;
      return true;
    }
    if (this.kept + reply.rows.length > MAX_KEPT) {
      this.rows.clear();
      this.kept = 0;
    }
    let layer = this.rows.get(reply.layer);
    if (!layer) this.rows.set(reply.layer, (layer = new Map()));
    reply.queries.forEach((q, i) => {
      const row = reply.rows?.[i];
      if (row && !layer.has(q)) {
        layer.set(q, row);
        this.kept++;
      }
    });
    return true;
  }

  /** Token `query`'s rollout row up to `layer` (the sink hidden and the row renormalized if asked), or null. */
  row(layer: number, query: number, hideSink: boolean): Float32Array | null {
    const row = this.rows.get(layer)?.get(query);
    if (!row) return null;
    if (!hideSink) return row;
    const out = row.slice();
    hideSinkRow(out, 0, out.length);
    return out;
  }

  /** Whether rows are being computed now. */
  get computing(): boolean {
    return this.pending !== null;
  }

  /** The plain line under the tokens while rows are computed, or after they could not be. */
  line(): string {
    if (this.failure !== null) return `Rollout: ${this.failure}`;
    if (!this.pending) return '';
    const { done, of } = this.pending;
    return `Rollout: computing the rows on screen in the background (layer ${Math.min(done + 1, of)} of ${of})…`;
  }
}
