// Measurements for the benchmark suite (bench/): tokenizer load time and throughput, and what one keystroke
// costs the extension host (IncrementalCounter.update after a one-character edit). Never used in tests that
// assert times.
import { performance } from 'node:perf_hooks';
import { IncrementalCounter } from './incrementalCounter';
import type { TokenizerId } from './presets';
import { loadTokenCounter, type TokenCounterOptions } from './tokenCounters';

export interface CostBenchmarkResult {
  readonly tokenizer: TokenizerId;
  readonly characters: number;
  readonly tokens: number;
  /** First load of the tokenizer in this process (0 if it was already loaded). */
  readonly loadMs: number;
  /** Counting the whole text from an empty cache, chunk by chunk. */
  readonly fullCountMs: number;
  readonly tokensPerSecond: number;
  /** Median and worst time of IncrementalCounter.update after typing one character at a random place. */
  readonly keystrokeMedianMs: number;
  readonly keystrokeMaxMs: number;
  readonly keystrokes: number;
}

/** A deterministic pseudo-random sequence, so runs are comparable. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export async function measureCostThroughput(text: string, tokenizer: TokenizerId, keystrokes = 50, options: TokenCounterOptions = {}): Promise<CostBenchmarkResult> {
  const loadStart = performance.now();
  const counter = await loadTokenCounter(tokenizer, options);
  const loadMs = performance.now() - loadStart;
  const incremental = new IncrementalCounter(counter);
  const fullStart = performance.now();
  const tokens = incremental.update(text).total;
  const fullCountMs = performance.now() - fullStart;
  const next = random(42);
  const times: number[] = [];
  let current = text;
  for (let i = 0; i < keystrokes; i++) {
    const at = Math.floor(next() * current.length);
    // Flattened like the string TextDocument.getText() returns, outside the timed part.
    current = Buffer.from(`${current.slice(0, at)}${'abcdefghij'[i % 10]}${current.slice(at)}`, 'utf8').toString('utf8');
    const start = performance.now();
    incremental.update(current);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return {
    tokenizer,
    characters: text.length,
    tokens,
    loadMs,
    fullCountMs,
    tokensPerSecond: fullCountMs > 0 ? (tokens / fullCountMs) * 1000 : Infinity,
    keystrokeMedianMs: times.length ? times[Math.floor(times.length / 2)] : 0,
    keystrokeMaxMs: times.length ? times[times.length - 1] : 0,
    keystrokes,
  };
}
