// The derived buffers behind the views: the n × n matrix of the current selection (rebuilt only when the
// selection or the layers it reads change, into the same buffer) and the focused token's weights, with the
// words the focus line, the tooltip and the screen reader get. No DOM: the app asks, the views draw.
import type { AttendedToken, InspectionHeader } from '../../src/shared/protocol';
import { buildMatrix, layersFor } from './aggregate';
import { focusVector, maxOf, topEntries, type Direction } from './focus';
import type { InspectionState } from './inspectionState';
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
  private key = '';
  private vector = new Float32Array(0);
  /** The last focus drawn read an exact row (it needs no matrix). */
  private exactDrawn = false;

  get matrix(): Float32Array | null {
    return this.current;
  }

  /** A new inspection of n tokens: nothing built yet. */
  clear(n: number): void {
    this.current = null;
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
  ): FocusText {
    const n = header?.tokens.length ?? 0;
    const exact = exactRow !== null && exactRow.length === n && direction === 'to';
    if (!header || index === null || index >= n || (!this.current && !exact))
      return {
        kind: 'none',
        index: index !== null && index < n ? index : null,
        line: !this.current && header ? 'Waiting for this layer…' : '',
      };
    if (this.vector.length !== n) this.vector = new Float32Array(n);
    this.exactDrawn = exact;
    if (exact) for (let key = 0; key < n; key++) this.vector[key] = exactRow[key] >= threshold ? exactRow[key] : 0;
    else if (this.current) focusVector(this.current, n, index, direction, threshold, this.vector);
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
      line: `${pinned ? 'Pinned' : 'Hover'}: ${summary}${exact ? ' (exact row)' : ''}`,
    };
  }

  /** The strongest `count` weights of the last focus drawn, for the editor (none without a matrix). */
  attended(index: number | null, count: number): AttendedToken[] {
    return index === null || (!this.current && !this.exactDrawn) ? [] : topEntries(this.vector, count);
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
