// The derived buffers behind the views: the n × n matrix of the current selection (rebuilt only when the
// selection or the layers it reads change, into the same buffer) and the focused token's weights, with the
// words the focus line, the tooltip and the screen reader get. Above DENSE_UP_TO tokens, or where the layers
// came without rows (rows on demand), there is no n × n matrix: a LongMatrix and its overview stand for it
// (longMatrix.ts). No DOM: the app asks, the views draw.
import type { AttendedToken, InspectionHeader } from '../../src/shared/protocol';
import { buildMatrix, layersFor } from './aggregate';
import { focusVector, maxOf, topEntries, type Direction } from './focus';
import type { InspectionState } from './inspectionState';
import { DENSE_UP_TO, LongMatrix, type Overview } from './longMatrix';
import { formatWeight, visibleTokenText } from './tokenText';
import type { ControlValues } from './viewState';

/** Entries the focus line and the tooltip list. */
const FOCUS_TOP = 6;

export type FocusText =
  /** Nothing to shade: no token focused, or no matrix yet. `index` is the focused token still marked. */
  | { readonly kind: 'none'; readonly index: number | null; readonly line: string }
  | {
      readonly kind: 'focus';
      readonly index: number;
      /** The weights are the exact row the worker computed (not the compact rows' matrix). */
      readonly exact: boolean;
      /** The focused token's weights (the shading) and their largest. */
      readonly vector: Float32Array;
      readonly max: number;
      readonly top: readonly AttendedToken[];
      /** The token list's accessible label. */
      readonly label: string;
      readonly tooltipTitle: string;
      /** What the focus line shows after "Pinned: " or "Hover: ", and what a screen reader hears of a pin. */
      readonly summary: string;
      readonly line: string;
    };

export class MatrixCache {
  private current: Float32Array | null = null;
  private longMatrix: LongMatrix | null = null;
  private overviewOf: Overview | null = null;
  private key = '';
  private vector = new Float32Array(0);
  /** The last focus drawn read an exact row (it needs no matrix). */
  private exactDrawn = false;

  /** The n × n matrix (null above DENSE_UP_TO tokens: see `long`). */
  get matrix(): Float32Array | null {
    return this.current;
  }

  /** A long inspection's matrix, read on demand, and its overview. */
  get long(): LongMatrix | null {
    return this.longMatrix;
  }

  get overview(): Overview | null {
    return this.overviewOf;
  }

  /** A new inspection of n tokens: nothing built yet. */
  clear(n: number): void {
    this.current = null;
    this.longMatrix = null;
    this.overviewOf = null;
    this.key = '';
    this.vector = new Float32Array(n);
  }

  /** Rebuilds the matrix when the selection or the layers it reads changed; returns whether it did. */
  update(inspection: InspectionState, v: ControlValues): boolean {
    const h = inspection.header;
    if (!h) return false;
    const sel = { layer: v.layer, head: v.head, mode: v.mode, hideSink: v.hideSink };
    const used = layersFor(inspection.layers, sel)
      .map((l) => l.layer)
      .join(',');
    const key = `${inspection.requestId}|${v.layer}|${v.head}|${v.mode}|${v.hideSink}|${used}`;
    if (key === this.key) return false;
    this.key = key;
    // Layers sent without rows (rows on demand, 513–2,048 tokens too) are read as a long inspection: their
    // overview from the tiles, a focused row exact on request.
    const rowless = layersFor(inspection.layers, sel).some(
      (l) => (sel.mode === 'rollout' ? l.rollout : l.heads).k === 0,
    );
    if (h.tokens.length > DENSE_UP_TO || rowless) {
      const long = new LongMatrix(inspection.layers, h.tokens.length, h.model.heads, sel);
      this.longMatrix = long.ready ? long : null;
      this.overviewOf = long.ready ? long.overview() : null;
      return true;
    }
    this.current = buildMatrix(inspection.layers, h.tokens.length, h.model.heads, sel, this.current ?? undefined);
    return true;
  }

  /** The focus of token `index` (null: none) over the current matrix, its weights left in `vector`. */
  focus(
    header: InspectionHeader | undefined,
    index: number | null,
    pinned: boolean,
    direction: Direction,
    threshold: number,
    exactRow: Float32Array | null = null,
    /** The exact row has been asked for: a long inspection waits for it rather than shading an estimate. */
    awaiting = false,
  ): FocusText {
    const n = header?.tokens.length ?? 0;
    const exact = exactRow !== null && exactRow.length === n && direction === 'to';
    const built = this.current !== null || this.longMatrix !== null;
    if (!header || index === null || index >= n || (!built && !exact))
      return {
        kind: 'none',
        index: index !== null && index < n ? index : null,
        line: !built && header ? 'Waiting for this layer…' : '',
      };
    if (this.vector.length !== n) this.vector = new Float32Array(n);
    this.exactDrawn = exact;
    if (exact) for (let key = 0; key < n; key++) this.vector[key] = exactRow[key] >= threshold ? exactRow[key] : 0;
    else if (this.current) focusVector(this.current, n, index, direction, threshold, this.vector);
    else if (this.longMatrix) {
      if (awaiting) this.vector.fill(0);
      else if (direction === 'to') this.longMatrix.rowInto(index, this.vector);
      else this.longMatrix.columnInto(index, this.vector);
      for (let i = 0; i < n; i++) if (this.vector[i] < threshold) this.vector[i] = 0;
    }
    const max = maxOf(this.vector);
    const top = topEntries(this.vector, FOCUS_TOP);
    const name = (i: number): string =>
      header.tokens[i]?.special ? '⟨bos⟩' : visibleTokenText(header.tokens[i]?.text ?? '', 24);
    const verb = direction === 'to' ? 'attends to' : 'is attended by';
    const list =
      top.map((t) => `${name(t.index)} ${formatWeight(t.weight)}`).join(', ') || 'nothing above the threshold';
    const summary = `#${index} ${name(index)} ${verb} ${list}`;
    return {
      kind: 'focus',
      index,
      exact,
      vector: this.vector,
      max,
      top,
      label: `Token ${index} ${name(index)} ${verb} ${list}`,
      tooltipTitle: `#${index} ${name(index)} ${verb}`,
      summary,
      line: `${pinned ? 'Pinned' : 'Hover'}: ${summary}${this.rowNote(exact, awaiting)}`,
    };
  }

  /** What the focus line says of where the weights come from (only a long inspection has a choice). */
  private rowNote(exact: boolean, awaiting: boolean): string {
    if (exact) return ' (exact row)';
    if (!this.longMatrix) return '';
    if (awaiting) return ' (its row is on the way)';
    return this.longMatrix.estimated ? ' (estimate from per-token figures)' : '';
  }

  /** The strongest `count` weights of the last focus drawn, for the editor (none without a matrix). */
  attended(index: number | null, count: number): AttendedToken[] {
    return index === null || (!this.current && !this.longMatrix && !this.exactDrawn)
      ? []
      : topEntries(this.vector, count);
  }
}

/** What the exported image shows, in words. */
export function captionOf(inspection: InspectionState, v: ControlValues): string {
  const h = inspection.header;
  const model = h?.model.card?.name ?? h?.model.id ?? '';
  const layer = v.layer === 'all' ? 'all layers' : `layer ${v.layer}`;
  const head =
    v.mode === 'rollout' ? 'rollout' : typeof v.head === 'number' ? `head ${v.head}` : `${v.head} over heads`;
  return [
    inspection.source?.label,
    model,
    layer,
    head,
    v.mode === 'value-norm' ? 'attention × value norm' : null,
    v.hideSink ? 'sink hidden' : null,
    `${h?.tokens.length ?? 0} tokens`,
  ]
    .filter(Boolean)
    .join(' · ');
}
