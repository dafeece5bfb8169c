// Small statistics helpers for the benchmark suite: medians, percentiles, rounding for the report.
import { seededRandom } from '../src/shared/seededRandom';

/** The q-quantile (0..1) by linear interpolation between closest ranks; NaN for no samples. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

/** Rounds to `digits` decimals (results.json keeps ms to 0.01 and ratios to 0.001). */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Deterministic PRNG, so corpora and keystroke positions are the same on every run. */
export { seededRandom };

/** Awaits a macrotask so a long loop lets timers and I/O run (and the event loop stays honest). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
