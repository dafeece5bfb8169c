// Parsed regions kept from one sectioning of a document to the next (promptBlocks.ts's parseRegion), so that a
// keystroke re-parses only the regions on the path to the edit: the cost CodeLens sections the whole prompt after
// every keystroke. A region's candidates depend only on its text and depth, except where the parser looked past
// the region's end (a tag or jinja block not closed inside it); such a region is never kept. Entries not used
// by the latest sectioning are dropped, so the memo holds about one document's regions.
import type { Candidate } from './promptBlocks';

/** Regions shorter than this are parsed again: looking them up would cost about as much. */
export const MIN_MEMO_REGION = 128;

interface RegionEntry {
  readonly text: string;
  readonly depth: number;
  /** Where the region started when last used, and the candidates it added there, in order (shared, never
   * changed: a region before the edit is found at the same place and its candidates are not copied). */
  from: number;
  candidates: readonly Candidate[];
  /** Entries of the regions parsed inside this one (kept alive with it). */
  readonly children: readonly RegionEntry[];
  generation: number;
}

export class SectionMemo {
  /** Entries by region length (a region's text is compared, not hashed: hashing reads all of it every time). */
  private readonly byLength = new Map<number, RegionEntry[]>();
  private generation = 0;
  /** The children of the regions being parsed, innermost last. */
  private readonly frames: RegionEntry[][] = [];
  /** Lookups answered and regions parsed in the latest sectioning (for tests and the benchmark). */
  hits = 0;
  misses = 0;

  /** Starts one sectioning of a document. */
  begin(): void {
    this.generation++;
    this.frames.length = 0;
    this.frames.push([]);
    this.hits = 0;
    this.misses = 0;
  }

  /** Ends it: entries it did not use are dropped. */
  end(): void {
    this.frames.length = 0;
    for (const [length, entries] of this.byLength) {
      if (entries.every((entry) => entry.generation === this.generation)) continue;
      const kept = entries.filter((entry) => entry.generation === this.generation);
      if (kept.length === 0) this.byLength.delete(length);
      else this.byLength.set(length, kept);
    }
  }

  /** The candidates of a region seen before, placed at `from`, or undefined. */
  lookup(text: string, depth: number, from: number): readonly Candidate[] | undefined {
    const entry = this.byLength.get(text.length)?.find((e) => e.depth === depth && e.text === text);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.keep(entry);
    this.frames[this.frames.length - 1]?.push(entry);
    if (entry.from !== from) {
      const by = from - entry.from;
      entry.candidates = entry.candidates.map((c) => shifted(c, by));
      entry.from = from;
    }
    return entry.candidates;
  }

  /** Before parsing a region that was not found: its inner regions are collected as its children. */
  enter(): void {
    this.frames.push([]);
  }

  /** After parsing it; `candidates` (absolute offsets) is what it added, or null if it must not be kept. */
  leave(text: string, depth: number, from: number, candidates: readonly Candidate[] | null): void {
    const children = this.frames.pop() ?? [];
    const parent = this.frames[this.frames.length - 1];
    if (candidates === null) {
      // Not kept, but what was parsed inside it still is: its children go to the enclosing region.
      parent?.push(...children);
      return;
    }
    const entry: RegionEntry = {
      text: ownCopy(text),
      depth,
      from,
      candidates,
      children,
      generation: this.generation,
    };
    const entries = this.byLength.get(text.length);
    if (entries) entries.push(entry);
    else this.byLength.set(text.length, [entry]);
    parent?.push(entry);
  }

  private keep(entry: RegionEntry): void {
    if (entry.generation === this.generation) return;
    entry.generation = this.generation;
    for (const child of entry.children) this.keep(child);
  }
}

function shifted(c: Candidate, by: number): Candidate {
  return c.bodyStart !== undefined && c.bodyEnd !== undefined
    ? {
        kind: c.kind,
        label: c.label,
        start: c.start + by,
        end: c.end + by,
        bodyStart: c.bodyStart + by,
        bodyEnd: c.bodyEnd + by,
      }
    : { kind: c.kind, label: c.label, start: c.start + by, end: c.end + by };
}

/** A copy that does not keep the whole document's string alive (a slice would). */
function ownCopy(text: string): string {
  return ` ${text}`.slice(1);
}
