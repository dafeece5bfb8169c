// Live cost in the extension:
// - tokenizer throughput: each target tokenizer counts a 1 MB prompt corpus, cut into the chunks the
//   editor counts (chunks.ts) and tokenized one by one with no count cache (the tokenizers' own caches stay:
//   that is how they run), on this thread;
// - per keystroke on a 100 KB prompt, what CostController's debounced update does, timed as if every keystroke
//   triggered it (a user typing slower than the debounce; the debounce delay itself is not counted): the host
//   sends the text to the real tokenizer worker (dist/tokenizerWorker.js's bundle, the tokenizer loaded there),
//   which updates its incremental count and computes the diagnostics and the section CodeLens; back on the host
//   come the cost figures and the status bar. Two figures per tokenizer:
//   - update: from the edit to the updated figures on the host, the worker round trip included. This is what
//     `cost.keystrokeP95Ms100KB` reports (its p95, worst tokenizer): how long until the status bar is right;
//   - host block: the host thread's busy time in that update (event-loop utilization: the edit against the last
//     text, posting it, reading the reply, the figures), i.e. what a keystroke costs the extension host;
//     recorded as `cost.hostBlockP95Ms100KB`.
//   VS Code's own work (getText, positionAt, rendering) is not ours and not counted.
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { splitCountChunks } from '../src/cost/chunks';
import { computeCost } from '../src/cost/costModel';
import { DEFAULT_COST_OPTIONS } from '../src/cost/costSettings';
import { costWarnings } from '../src/cost/costSummary';
import { statusForCount } from '../src/cost/editorModels';
import {
  BUILT_IN_PRESETS,
  DEFAULT_TARGET_ID,
  TOKENIZER_IDS,
  type TargetPreset,
  type TokenizerId,
} from '../src/cost/presets';
import { loadTokenCounter, type TokenCounter } from '../src/cost/tokenCounters';
import { TokenizerWorkerClient } from '../src/cost/tokenizerWorkerClient';
import { promptCorpus } from './corpus';
import { median, quantile, seededRandom, yieldToEventLoop } from './stats';

export interface CostBenchOptions {
  readonly root: string;
  /** The bundled tokenizer worker (bundles.ts). */
  readonly tokenizerWorkerJs: string;
  readonly corpusBytes: number;
  readonly throughputRuns: number;
  readonly promptBytes: number;
  readonly keystrokes: number;
  readonly log: (line: string) => void;
}

export interface TokenizerFigures {
  readonly tokenizer: TokenizerId;
  readonly loadMs: number;
  readonly mbPerSecond: number;
  readonly tokens: number;
  /** Target preset used for the keystroke run. */
  readonly target: string;
  /** Edit → updated figures on the host, worker round trip included. */
  readonly keystrokeP50Ms: number;
  readonly keystrokeP95Ms: number;
  /** The host thread's busy time per keystroke. */
  readonly hostBlockP50Ms: number;
  readonly hostBlockP95Ms: number;
}

export interface CostBenchResult {
  readonly corpusBytes: number;
  readonly promptBytes: number;
  readonly keystrokes: number;
  readonly tokenizers: TokenizerFigures[];
  /** p95 with the default target (llama-3.1-8b). */
  readonly defaultTargetP95Ms: number;
  /** The worst tokenizer's p95 (edit → updated figures). */
  readonly worstP95Ms: number;
  /** The worst tokenizer's host-block p95. */
  readonly worstHostBlockP95Ms: number;
}

const SLOW_TOKENIZER_MS = 8_000;

function countChunked(counter: TokenCounter, text: string): number {
  let total = 0;
  const chunks = splitCountChunks(text);
  for (let i = 0; i < chunks.length; i++) total += counter.count(text.slice(chunks[i].start, chunks[i].end), i === 0);
  return total;
}

/**
 * One debounced update as CostController.analyze does it: the count, diagnostics and section lenses in the worker
 * (the text goes as an edit of the last one), the cost figures and the status bar here.
 */
async function analyze(
  client: TokenizerWorkerClient,
  document: string,
  preset: TargetPreset,
  text: string,
): Promise<number> {
  const options = DEFAULT_COST_OPTIONS;
  void Buffer.byteLength(text, 'utf8'); // the file-size check
  const { snapshot, chatOverhead, diagnostics, lenses } = await client.count(document, text, preset, options, true);
  const figures = computeCost(preset, snapshot.total, options.kvDtype, chatOverhead);
  const status = statusForCount(preset, figures, options, costWarnings(preset, figures, options));
  return status.text.length + diagnostics.length + lenses.length;
}

/**
 * A user typing: a burst of characters at one place, then the cursor moves; some newlines and backspaces. Each
 * text is built by join, so it is a flat string as VS Code's getText() (lines joined) returns, not a rope.
 */
function* keystrokes(start: string, count: number, seed: number): Generator<string> {
  const random = seededRandom(seed);
  let text = start;
  let cursor = 0;
  for (let i = 0; i < count; i++) {
    if (i % 12 === 0) {
      // Move to the end of a random line.
      const at = text.indexOf('\n', Math.floor(random() * text.length));
      cursor = at === -1 ? text.length : at;
    }
    const r = random();
    if (r < 0.08 && cursor > 0) {
      text = [text.slice(0, cursor - 1), text.slice(cursor)].join('');
      cursor--;
    } else {
      const ch = r < 0.12 ? '\n' : r < 0.3 ? ' ' : String.fromCharCode(97 + Math.floor(random() * 26));
      text = [text.slice(0, cursor), ch, text.slice(cursor)].join('');
      cursor++;
    }
    yield text;
  }
}

export async function runCostBench(options: CostBenchOptions): Promise<CostBenchResult> {
  const assetsDir = path.join(options.root, 'tokenizers');
  const corpus = promptCorpus(options.root, options.corpusBytes, 1);
  const corpusBytes = Buffer.byteLength(corpus, 'utf8');
  const prompt = promptCorpus(options.root, options.promptBytes, 2);
  const tokenizers: TokenizerFigures[] = [];
  let defaultTargetP95Ms = Number.NaN;
  for (const id of TOKENIZER_IDS) {
    let t = performance.now();
    const counter = await loadTokenCounter(id, { assetsDir });
    const loadMs = performance.now() - t;
    countChunked(counter, corpus.slice(0, 20_000)); // warm-up (JIT)
    const times: number[] = [];
    let tokens = 0;
    // A slow tokenizer (SentencePiece in JS) stops after two runs once they took long enough to be stable.
    const throughputStarted = performance.now();
    for (let run = 0; run < options.throughputRuns; run++) {
      if (run >= 2 && performance.now() - throughputStarted > SLOW_TOKENIZER_MS) break;
      t = performance.now();
      tokens = countChunked(counter, corpus);
      times.push(performance.now() - t);
      await yieldToEventLoop();
    }
    const mbPerSecond = corpusBytes / 1e6 / (median(times) / 1000);

    const preset =
      BUILT_IN_PRESETS.find((p) => p.id === DEFAULT_TARGET_ID && p.tokenizer === id) ??
      BUILT_IN_PRESETS.find((p) => p.tokenizer === id);
    if (!preset) throw new Error(`no built-in preset uses the ${id} tokenizer`);
    // A fresh worker per tokenizer, as after a reload: only this tokenizer is loaded in it.
    const client = new TokenizerWorkerClient(options.tokenizerWorkerJs, { assetsDir });
    const samples: number[] = [];
    const blocks: number[] = [];
    try {
      await analyze(client, 'bench', preset, prompt); // the document opens: the load and a full count, not a keystroke
      const warmups = Math.min(20, options.keystrokes);
      let i = 0;
      for (const text of keystrokes(prompt, warmups + options.keystrokes, 7)) {
        const busy = performance.eventLoopUtilization();
        t = performance.now();
        await analyze(client, 'bench', preset, text);
        const elapsed = performance.now() - t;
        if (i++ >= warmups) {
          samples.push(elapsed);
          blocks.push(performance.eventLoopUtilization(busy).active);
        }
      }
    } finally {
      client.dispose();
    }
    const figures: TokenizerFigures = {
      tokenizer: id,
      loadMs,
      mbPerSecond,
      tokens,
      target: preset.id,
      keystrokeP50Ms: quantile(samples, 0.5),
      keystrokeP95Ms: quantile(samples, 0.95),
      hostBlockP50Ms: quantile(blocks, 0.5),
      hostBlockP95Ms: quantile(blocks, 0.95),
    };
    if (preset.id === DEFAULT_TARGET_ID) defaultTargetP95Ms = figures.keystrokeP95Ms;
    tokenizers.push(figures);
    options.log(
      `cost ${id.padEnd(11)}: ${mbPerSecond.toFixed(2)} MB/s (${tokens} tokens in ${(corpusBytes / 1e6).toFixed(2)} MB, load ${loadMs.toFixed(0)} ms); ` +
        `keystroke on ${(options.promptBytes / 1000).toFixed(0)} KB (${preset.id}): update p50 ${figures.keystrokeP50Ms.toFixed(2)} ms, p95 ${figures.keystrokeP95Ms.toFixed(2)} ms; ` +
        `host block p50 ${figures.hostBlockP50Ms.toFixed(2)} ms, p95 ${figures.hostBlockP95Ms.toFixed(2)} ms`,
    );
  }
  return {
    corpusBytes,
    promptBytes: Buffer.byteLength(prompt, 'utf8'),
    keystrokes: options.keystrokes,
    tokenizers,
    defaultTargetP95Ms,
    worstP95Ms: Math.max(...tokenizers.map((t) => t.keystrokeP95Ms)),
    worstHostBlockP95Ms: Math.max(...tokenizers.map((t) => t.hostBlockP95Ms)),
  };
}
