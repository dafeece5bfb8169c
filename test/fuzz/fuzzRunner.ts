// The fuzz run: seeded cases that mutate the model graph, config.json, tokenizer.json, a GGUF file's header
// and metadata (mutateGguf.ts), the inspected text and webview messages, each run through the real worker bundle (or the host's message check). A case
// ends "clean" (a full result), "line" (one user line; for a webview message, dropped with a log entry),
// or a failure: an unclear message, a hang, or a host that did not recover. After every model case the
// good model is inspected again, and the time from the bad case's start to that clean result is its
// time to recover.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { InspectorWorker } from '../../src/worker/inspectorWorker';
import { parseWebviewMessage } from '../../src/shared/webviewMessages';
import { WEBVIEW_MESSAGE_TYPES } from '../../src/shared/protocol';
import { buildGgufFixture } from '../helpers/ggufFixtures';
import { writeTinyModel } from '../helpers/tinyModel';
import { makeWorker, recorder, request, type Outcome } from '../faults/faultKit';
import {
  mutateBytes,
  mutateJson,
  mutateWebviewMessage,
  pick,
  PRE_TOKENIZER_PATTERNS,
  seeded,
  splitPreTokenizer,
  type Random,
} from './mutate';
import { mutateGguf } from './mutateGguf';

export const TARGETS = ['graph', 'config', 'tokenizer', 'gguf', 'text', 'webview'] as const;
export type Target = (typeof TARGETS)[number];
const WEIGHTS: Readonly<Record<Target, number>> = {
  graph: 0.15,
  config: 0.1,
  tokenizer: 0.15,
  gguf: 0.1,
  text: 0.2,
  webview: 0.3,
};
export type CaseOutcome = 'clean' | 'line' | 'unclear' | 'hang' | 'not-recovered';

export interface FuzzStats {
  readonly seed: number;
  readonly cases: number;
  readonly byTarget: Record<Target, Record<CaseOutcome, number>>;
  /** Of the "line" outcomes: how many were a worker that stopped (and restarted). */
  readonly workerRestarts: number;
  readonly worstRecoverMs: number;
  readonly worstRecoverCase: string;
  readonly failures: string[];
  readonly elapsedMs: number;
}

const CASE_TIMEOUT_MS = 30_000;
/** A small GGUF decoder (K-quant rows need 256 columns; Q4_0 only 32). */
const FUZZ_GGUF_SHAPE = { hidden: 64, layers: 2, heads: 2, kvHeads: 1, intermediate: 128, vocab: 300, context: 256 };
const TEXT = 'You are a careful assistant. Answer briefly, cite the document, and say when you do not know.';
const HOSTILE_TEXTS = [
  '',
  '\u0000\u0000',
  '\ud800\udc00\ud800',
  '🙂'.repeat(300),
  'a'.repeat(5000),
  '\r\n'.repeat(200),
  '\u202e\u200b\ufeff',
  '<|endoftext|>'.repeat(20),
  '日本語のテキスト。'.repeat(40),
];

function oneLine(message: string): boolean {
  return (
    message.length > 0 &&
    message.length <= 600 &&
    !message.includes('\n') &&
    !/\bat .+:\d+:\d+|\bundefined\b|\[object /.test(message)
  );
}

function chooseTarget(random: Random): Target {
  let r = random();
  for (const target of TARGETS) {
    r -= WEIGHTS[target];
    if (r < 0) return target;
  }
  return 'webview';
}

async function inspectWithin(worker: InspectorWorker, model: string, text: string): Promise<Outcome | 'hang'> {
  const { sink, outcome } = recorder();
  const handle = worker.inspect(request(model, text), sink);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), CASE_TIMEOUT_MS)));
  const result = await Promise.race([handle.finished.then(() => outcome), timedOut]);
  clearTimeout(timer);
  return result;
}

function classify(outcome: Outcome | 'hang'): CaseOutcome {
  if (outcome === 'hang') return 'hang';
  if (outcome.error !== undefined) return oneLine(outcome.error) ? 'line' : 'unclear';
  return outcome.summary ? 'clean' : 'unclear';
}

export async function runFuzz(options: {
  seed: number;
  cases: number;
  workDir: string;
  log?: (line: string) => void;
}): Promise<FuzzStats> {
  const started = performance.now();
  const random = seeded(options.seed);
  const base = path.join(options.workDir, 'base');
  await writeTinyModel(base, { layers: 2, maxPositions: 256 });
  const files = {
    graph: await fs.readFile(path.join(base, 'onnx', 'model.onnx')),
    config: await fs.readFile(path.join(base, 'config.json'), 'utf8'),
    tokenizer: await fs.readFile(path.join(base, 'tokenizer.json'), 'utf8'),
  };
  const gguf = buildGgufFixture({ arch: 'llama', type: 'Q4_0', shape: { ...FUZZ_GGUF_SHAPE }, addBos: true });
  const cacheDir = path.join(options.workDir, 'cache');
  let worker = await makeWorker(cacheDir, options.workDir);
  const byTarget = Object.fromEntries(
    TARGETS.map((t) => [t, { clean: 0, line: 0, unclear: 0, hang: 0, 'not-recovered': 0 }]),
  ) as FuzzStats['byTarget'];
  const failures: string[] = [];
  let workerRestarts = 0;
  let worstRecoverMs = 0;
  let worstRecoverCase = '';
  const restart = async (): Promise<void> => {
    worker.dispose();
    worker = await makeWorker(cacheDir, options.workDir);
  };

  for (let i = 0; i < options.cases; i++) {
    const target = chooseTarget(random);
    const caseStart = performance.now();
    let how = '';
    let result: CaseOutcome;
    if (target === 'webview') {
      const message = mutateWebviewMessage(random);
      how = JSON.stringify(message)?.slice(0, 80) ?? String(message);
      try {
        const parsed = parseWebviewMessage(message);
        // A dropped message is a log entry (not a user line): any one-line reason will do.
        if (typeof parsed === 'string') result = parsed.length > 0 && !parsed.includes('\n') ? 'line' : 'unclear';
        else result = WEBVIEW_MESSAGE_TYPES.includes(parsed.type) ? 'clean' : 'unclear';
      } catch (error) {
        result = 'unclear';
        how += ` threw ${String(error)}`;
      }
      byTarget[target][result]++;
      if (result === 'unclear') failures.push(`#${i} ${target}: ${how}`);
      continue;
    }

    let folder = base;
    let model = base;
    let text = TEXT;
    if (target === 'text') {
      text = pick(random, HOSTILE_TEXTS) + (random() < 0.5 ? TEXT : '');
      how = JSON.stringify(text.slice(0, 40));
    } else {
      folder = path.join(options.workDir, `case-${i}`);
      await fs.cp(base, folder, { recursive: true });
      if (target === 'gguf') {
        const mutated = mutateGguf(random, gguf);
        how = mutated.how;
        await fs.writeFile(path.join(folder, 'model.gguf'), mutated.bytes);
        model = path.join(folder, 'model.gguf');
      } else if (target === 'graph') {
        const mutated = mutateBytes(random, files.graph);
        how = mutated.how;
        await fs.writeFile(path.join(folder, 'onnx', 'model.onnx'), mutated.bytes);
      } else if (target === 'config') {
        const mutated = mutateJson(random, files.config, [
          ['num_hidden_layers', 7],
          ['num_key_value_heads', 3],
          ['text_config', { num_hidden_layers: -1 }],
          ['max_position_embeddings', 2 ** 40],
        ]);
        how = mutated.how;
        await fs.writeFile(path.join(folder, 'config.json'), mutated.text);
      } else {
        const extras: [string, unknown][] = PRE_TOKENIZER_PATTERNS.map((p) => ['pre_tokenizer', splitPreTokenizer(p)]);
        const mutated = mutateJson(random, files.tokenizer, extras);
        how = mutated.how;
        await fs.writeFile(path.join(folder, 'tokenizer.json'), mutated.text);
      }
    }
    if (target !== 'gguf') model = folder;
    const outcome = await inspectWithin(worker, model, text);
    result = classify(outcome);
    if (outcome !== 'hang' && outcome.error && /worker stopped unexpectedly/.test(outcome.error)) workerRestarts++;
    if (result === 'hang') await restart();
    if (result === 'unclear' || result === 'hang')
      failures.push(
        `#${i} ${target} (${how}): ${result}${outcome !== 'hang' ? ` ${(outcome.error ?? 'no summary').slice(0, 300)}` : ''}`,
      );
    if (folder !== base) await fs.rm(folder, { recursive: true, force: true });

    // Recovery: the good model right after, unless this case was already the good model.
    if (target !== 'text' || result !== 'clean') {
      const next = await inspectWithin(worker, base, TEXT);
      if (classify(next) !== 'clean') {
        result = 'not-recovered';
        failures.push(`#${i} ${target} (${how}): the next inspection failed: ${next === 'hang' ? 'hang' : next.error}`);
        await restart();
      }
    }
    const recoverMs = performance.now() - caseStart;
    if (recoverMs > worstRecoverMs) {
      worstRecoverMs = recoverMs;
      worstRecoverCase = `#${i} ${target} (${how})`;
    }
    byTarget[target][result]++;
    options.log?.(`#${i} ${target} ${result} ${recoverMs.toFixed(0)} ms ${how}`);
  }
  worker.dispose();
  return {
    seed: options.seed,
    cases: options.cases,
    byTarget,
    workerRestarts,
    worstRecoverMs,
    worstRecoverCase,
    failures,
    elapsedMs: performance.now() - started,
  };
}

/** Counts per outcome over all targets. */
export function totals(stats: FuzzStats): Record<CaseOutcome, number> {
  const sum: Record<CaseOutcome, number> = { clean: 0, line: 0, unclear: 0, hang: 0, 'not-recovered': 0 };
  for (const target of TARGETS) for (const [k, v] of Object.entries(stats.byTarget[target])) sum[k as CaseOutcome] += v;
  return sum;
}
