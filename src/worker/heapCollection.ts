// A full collection of the engine worker's V8 heap after inspections that left much garbage behind.
// A long inspection leaves tens of MiB of typed arrays (onnxruntime's outputs, the copies that were
// transferred) that V8 frees only at its next major collection; meanwhile the allocator's heap grows to
// hold several inspections' worth and does not shrink, so a long-lived worker's RSS steps up ~90 MiB over
// its first few dozen mixed-length inspections (bench soak). Collecting once the garbage is large keeps it
// flat, for 11–23 ms of the worker's own time per collection (the extension host is not blocked).
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

/** Collect once the inspections since the last collection transferred at least this many bytes. What is
 * transferred is about a third of the garbage left behind (a 2,048-token inspection of the embedded model
 * transfers ~14 MiB and leaves ~45 MiB), so this collects after nearly every inspection of ≥ ~1,000 tokens
 * and after every few short ones; 32 MiB left the soak's RSS growth at ~85 MiB, 8 MiB at ~30 MiB. */
export const COLLECT_AFTER_BYTES = 8 * 1024 * 1024;

/** V8's full collection: the process's own `gc` where Node runs with --expose-gc, else one taken from a
 * fresh context with the flag set for that moment only (so no other context gains a `gc` global). */
export function fullCollectionFunction(): (() => void) | null {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as () => void;
  try {
    v8.setFlagsFromString('--expose-gc');
    const taken: unknown = vm.runInNewContext('gc');
    return typeof taken === 'function' ? (taken as () => void) : null;
  } catch {
    return null;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/** Counts the bytes inspections transferred and collects once they reach the threshold. */
export class GarbageBudget {
  private bytes = 0;
  constructor(
    private readonly collect: (() => void) | null,
    private readonly threshold = COLLECT_AFTER_BYTES,
  ) {}

  add(bytes: number): void {
    this.bytes += bytes;
  }

  /** Called when the worker has nothing queued; returns whether it collected. */
  settle(): boolean {
    if (!this.collect || this.bytes < this.threshold) return false;
    this.bytes = 0;
    this.collect();
    return true;
  }
}
