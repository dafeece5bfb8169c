// The matrix of a long inspection (above DENSE_UP_TO tokens), never held whole: n² floats are 268 MB at 8,192
// tokens. What the views need is read from the payload as it is: the rows it carries (compact rows, when a
// layer has them), else an estimate from the layer's per-token figures (`received`: each key's share of the
// attention, spread over the queries that can see it, each causal row renormalized). From it: one row or one
// column for a focus without an exact row, the overview (OVERVIEW_BINS² block means) the matrix view draws, and
// the sections card's figures. The exact rows of a hovered or pinned token arrive on demand (exactRows.ts).
// The overview reads the layers' overview tiles instead of the estimate where every estimated layer carries them
// and the mode is attention (tiles are per head, not rollout nor value-weighted): a 32 × 32 picture measured in
// the graph rather than guessed; the sink is not taken out of the first key bin there.
import type { LayerAttention } from '../../src/shared/protocol';
import { hideSinkRow, layerRowInto, layersFor, SINK_INDEX, type Selection } from './aggregate';
import { forEachInRow } from './attentionRows';
import type { OverviewTiles } from '../../src/shared/protocol';
import { selectedTiles, tileDensity } from './overviewTiles';

/** Up to this many tokens the matrix is built whole, as it always was. */
export const DENSE_UP_TO = 2048;
/** Blocks per side of the overview. */
export const OVERVIEW_BINS = 512;

export interface Overview {
  readonly n: number;
  /** Tokens per block; `size` blocks per side (the last one may be short). */
  readonly bin: number;
  readonly size: number;
  /** size × size: per block, the mean weight over its causal cells (queries of block a, keys of block b ≤ query). */
  readonly cells: Float32Array;
  /** Whether some of it is estimated from per-token figures (no rows were sent for those layers). */
  readonly estimated: boolean;
  /** Tokens per overview tile side, where the layers without rows are drawn from their tiles (else absent). */
  readonly tileWidth?: number;
}

export class LongMatrix {
  /** Layers whose rows the payload carries, and each one's weight in the selection. */
  private readonly rowLayers: LayerAttention[];
  private readonly rowWeight: number;
  /** The estimate's share of the selection, its per-key profile c and its prefix sums P (P[q + 1] = Σ_{k ≤ q} c[k]). */
  private readonly estimateWeight: number;
  private readonly c: Float64Array;
  private readonly P: Float64Array;
  private readonly scratch: Float32Array;
  /** The estimated layers' tiles of the selected head (their mean), when all have them and the mode allows. */
  private readonly tiles: OverviewTiles | null = null;

  constructor(
    layers: readonly (LayerAttention | undefined)[],
    readonly n: number,
    private readonly heads: number,
    private readonly sel: Selection,
  ) {
    const chosen = layersFor(layers, sel);
    const rowsOf = (l: LayerAttention): number => (sel.mode === 'rollout' ? l.rollout.k : l.heads.k);
    this.rowLayers = chosen.filter((l) => rowsOf(l) > 0);
    const estimated = chosen.filter((l) => rowsOf(l) === 0);
    this.rowWeight = chosen.length ? this.rowLayers.length / chosen.length : 0;
    this.estimateWeight = chosen.length ? estimated.length / chosen.length : 0;
    this.c = new Float64Array(n);
    this.P = new Float64Array(n + 1);
    this.scratch = new Float32Array(n);
    if (estimated.length === 0) return;
    if (sel.mode === 'attention') this.tiles = selectedTiles(estimated, heads, sel.head);
    // received[k] = (1/n) Σ_q A[q][k]; only the n − k queries from k on can see key k.
    for (const l of estimated)
      for (let k = 0; k < n; k++) this.c[k] += (l.received[k] * n) / (n - k) / estimated.length;
    if (sel.hideSink) this.c[SINK_INDEX] = 0;
    for (let k = 0; k < n; k++) this.P[k + 1] = this.P[k] + this.c[k];
  }

  /** Whether some of the selection is estimated from per-token figures (no rows were sent for those layers). */
  get estimated(): boolean {
    return this.estimateWeight > 0;
  }

  /** Whether the selection reads anything (its layers have arrived). */
  get ready(): boolean {
    return this.rowWeight + this.estimateWeight > 0;
  }

  /** Query q's row of the selection into out (length n). */
  rowInto(q: number, out: Float32Array): void {
    out.fill(0);
    if (this.rowLayers.length > 0) {
      const row = buildRow(this.rowLayers, this.n, this.heads, this.sel, q, this.scratch);
      for (let k = 0; k < this.n; k++) out[k] += row[k] * this.rowWeight;
    }
    const total = this.P[q + 1];
    if (this.estimateWeight === 0 || !(total > 0)) return;
    const unit = this.estimateWeight / total;
    for (let k = 0; k <= q; k++) out[k] += this.c[k] * unit;
  }

  /** Key k's column (who attends to it) into out (length n). O(n) for the estimate, O(entries) with rows. */
  columnInto(k: number, out: Float32Array): void {
    out.fill(0);
    for (let q = k; q < this.n; q++) {
      const total = this.P[q + 1];
      if (this.estimateWeight > 0 && total > 0) out[q] += (this.c[k] * this.estimateWeight) / total;
    }
    if (this.rowLayers.length === 0) return;
    for (let q = k; q < this.n; q++) this.rowEntries(q, (key, w) => key === k && (out[q] += w));
  }

  /**
   * Calls visit(key, weight) for the entries of query q's row that the layers with rows give, weighted by their
   * share (a key may come more than once: the weights add up). O(layers × heads × k) from the compact rows; the
   * max over heads and attention × value norm build the dense row (O(n)).
   */
  private rowEntries(q: number, visit: (key: number, weight: number) => void): void {
    const { sel, rowLayers, heads, n } = this;
    if (rowLayers.length === 0) return;
    if (sel.head === 'max' || sel.mode === 'value-norm') {
      const row = buildRow(rowLayers, n, heads, sel, q, this.scratch);
      for (let k = 0; k <= q; k++) if (row[k] !== 0) visit(k, row[k] * this.rowWeight);
      return;
    }
    const one = typeof sel.head === 'number' ? sel.head : 0;
    const each = (scale: number, to: (key: number, weight: number) => void): void => {
      for (const layer of rowLayers) {
        if (sel.mode === 'rollout') forEachInRow(layer.rollout, q, (k, w) => to(k, w * scale));
        else if (sel.head === 'mean')
          for (let h = 0; h < heads; h++) forEachInRow(layer.heads, h * n + q, (k, w) => to(k, (w * scale) / heads));
        else forEachInRow(layer.heads, one * n + q, (k, w) => to(k, w * scale));
      }
    };
    let scale = 1 / rowLayers.length;
    if (sel.hideSink) {
      // As hideSinkRow: the sink left out and the rest renormalized to 1.
      let rest = 0;
      each(scale, (k, w) => k !== SINK_INDEX && (rest += w));
      scale = rest > 1e-6 ? scale / rest : 0;
    }
    scale *= this.rowWeight;
    if (scale === 0) return;
    each(scale, (k, w) => (!sel.hideSink || k !== SINK_INDEX) && visit(k, w));
  }

  /** The OVERVIEW_BINS² block means. O(n · bins) for the estimate, O(entries) for layers with rows. */
  overview(): Overview {
    const n = this.n;
    const bin = Math.ceil(n / Math.min(OVERVIEW_BINS, n));
    const size = Math.ceil(n / bin);
    const cells = new Float32Array(size * size);
    const tiles = this.estimateWeight > 0 ? this.tiles : null;
    if (tiles) {
      // Already a mean per causal cell: the block's first cell's tile, after the division below is undone.
      const span = (a: number): number => Math.min(n, (a + 1) * bin) - a * bin;
      for (let a = 0; a < size; a++)
        for (let b = 0; b <= a; b++) {
          const count = b < a ? span(a) * span(b) : (span(a) * (span(a) + 1)) / 2;
          cells[a * size + b] = tileDensity(tiles, n, a * bin, b * bin) * this.estimateWeight * count;
        }
    } else if (this.estimateWeight > 0) {
      for (let q = 0; q < n; q++) {
        const total = this.P[q + 1];
        if (!(total > 0)) continue;
        const unit = this.estimateWeight / total;
        const a = Math.floor(q / bin);
        for (let b = 0; b <= a; b++) {
          const end = Math.min(q + 1, (b + 1) * bin);
          cells[a * size + b] += (this.P[end] - this.P[b * bin]) * unit;
        }
      }
    }
    for (let q = 0; q < n && this.rowLayers.length > 0; q++) {
      const at = Math.floor(q / bin) * size;
      this.rowEntries(q, (k, w) => (cells[at + Math.floor(k / bin)] += w));
    }
    // Each block's sum over its causal cells, divided by how many there are.
    const span = (a: number): number => Math.min(n, (a + 1) * bin) - a * bin;
    for (let a = 0; a < size; a++) {
      for (let b = 0; b <= a; b++) {
        const count = b < a ? span(a) * span(b) : (span(a) * (span(a) + 1)) / 2;
        cells[a * size + b] /= count;
      }
    }
    return {
      n,
      bin,
      size,
      cells,
      estimated: this.estimateWeight > 0 && !tiles,
      ...(tiles ? { tileWidth: Math.ceil(n / tiles.size) } : {}),
    };
  }

  /**
   * For the sections card: calls visit(q, unitSums) for every query, with unitSums[u] = Σ of row q's weights on
   * unit u's keys (owner[k] = u). O(n · units) for the estimate, O(entries) for layers with rows.
   */
  forEachRowByUnit(owner: Int32Array, units: number, visit: (q: number, unitSums: Float64Array) => void): void {
    const running = new Float64Array(units);
    const sums = new Float64Array(units);
    for (let q = 0; q < this.n; q++) {
      if (owner[q] >= 0) running[owner[q]] += this.c[q];
      sums.fill(0);
      const total = this.P[q + 1];
      if (this.estimateWeight > 0 && total > 0)
        for (let u = 0; u < units; u++) sums[u] = (running[u] * this.estimateWeight) / total;
      this.rowEntries(q, (k, w) => owner[k] >= 0 && (sums[owner[k]] += w));
      visit(q, sums);
    }
  }
}

/** Query q's row of the selection over `layers` (each with rows), as buildMatrix computes it, into out. */
function buildRow(
  layers: readonly LayerAttention[],
  n: number,
  heads: number,
  sel: Selection,
  q: number,
  out: Float32Array,
): Float32Array {
  out.fill(0);
  const scratch = sel.mode !== 'rollout' && sel.head === 'max' && layers.length > 1 ? new Float32Array(n) : null;
  for (const layer of layers) layerRowInto(layer, n, heads, sel, q, out, 1 / layers.length, 0, scratch);
  if (sel.hideSink) hideSinkRow(out, 0, n);
  return out;
}
