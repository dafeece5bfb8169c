// What the host keeps of the current inspection: where the text came from (kept in step with edits), and
// the run's event list, which exports and the replay into a reloaded webview fold over. No `vscode` import.
import type {
  HostMessage,
  InspectionEvent,
  InspectionHeader,
  InspectionResult,
  InspectionSummary,
  TokenInfo,
} from '../shared/protocol';
import { emptyResult, finishResult, foldEvent, type PartialResult } from '../shared/resultFold';

export class InspectionRecord {
  /** The run's events as the panel got them (progress aside); everything else is a fold over this list. */
  readonly events: InspectionEvent[] = [];
  stale = false;
  /** The fold of `events` (shared/resultFold.ts), kept in step with them. */
  private folded: PartialResult = emptyResult;

  constructor(
    readonly requestId: number,
    readonly uri: string | undefined,
    /** Offset and length of the inspected range in the document, shifted by edits before it. */
    public offset: number,
    public length: number,
  ) {}

  /** Keeps an event of this run (progress is transient and not kept). */
  add(event: InspectionEvent): void {
    if (event.requestId !== this.requestId || event.kind === 'progress') return;
    this.events.push(event);
    this.folded = foldEvent(this.folded, event);
  }

  get header(): InspectionHeader | undefined {
    return this.folded.header;
  }

  get summary(): InspectionSummary | undefined {
    return this.folded.summary;
  }

  get error(): string | undefined {
    return this.folded.error;
  }

  result(): InspectionResult | null {
    return finishResult(this.folded, { label: '', offset: this.offset });
  }

  /** The messages that bring a fresh webview to the same point: the events again, then the stale flag. */
  replay(): HostMessage[] {
    return [...this.events, ...(this.stale ? [{ kind: 'stale', stale: true } as const] : [])];
  }

  /**
   * Applies one document edit (offset, removed length, inserted length) and says whether it touched the
   * inspected text. Edits before the range shift it; edits inside (or at its edges) change it.
   */
  applyEdit(start: number, removed: number, inserted: number): boolean {
    const end = start + removed;
    const rangeEnd = this.offset + this.length;
    if (end < this.offset || (end === this.offset && removed > 0)) {
      this.offset += inserted - removed;
      return false;
    }
    if (start > rangeEnd) return false;
    // Overlapping edit: the range grows or shrinks by what the edit added or removed within it.
    const newStart = Math.min(this.offset, start);
    const newEnd = Math.max(rangeEnd, end) + inserted - removed;
    this.offset = newStart;
    this.length = Math.max(0, newEnd - newStart);
    return true;
  }
}

/** Index of the token whose span contains `offset` (relative to the inspected text), or null: a binary
 * search, with a linear pass when spans overlap. */
export function tokenAtOffset(tokens: readonly TokenInfo[], offset: number): number | null {
  let lo = 0;
  let hi = tokens.length - 1;
  let best: number | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = tokens[mid];
    if (t.special || t.end <= t.start) {
      // Special tokens have empty spans; step past them by start position.
      if (t.start <= offset) lo = mid + 1;
      else hi = mid - 1;
      continue;
    }
    if (t.start <= offset) {
      if (offset < t.end) best = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (best !== null) return best;
  // Binary search may skip a containing token when spans overlap; fall back to a short linear check.
  for (let i = 0; i < tokens.length; i++)
    if (!tokens[i].special && tokens[i].start <= offset && offset < tokens[i].end) return i;
  return null;
}

/** Decoration bucket (1..buckets) for a weight relative to the strongest attended weight; 0 = none. */
export function decorationBucket(weight: number, max: number, buckets: number): number {
  if (!(weight > 0) || !(max > 0)) return 0;
  return Math.max(1, Math.min(buckets, Math.ceil(Math.sqrt(weight / max) * buckets)));
}
