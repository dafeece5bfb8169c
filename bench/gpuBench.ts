// The GPU benchmark (`npm run bench -- --only gpu`), prepared for a lent GPU machine and short (a few
// minutes): the embedded model and the 0.5B-shaped q4 fixture (its GroupQueryAttention runs fused now that
// the statistics are recomputed from Q and K, so the graph can leave the CPU) on onnxruntime's `webgpu`
// provider against `cpu`, 2,048 tokens, raw prefill and full inspection with rows on demand; and llama.cpp's
// prefill of the same-shape GGUF through node-llama-cpp's CUDA build against its CPU build. The card is read
// from nvidia-smi. A provider that cannot start is recorded with its one-line reason, never fatal.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ExecutionProviderName } from '../src/shared/protocol';
import type { InspectRequest } from '../src/engine/inspectApi';
import { runInspection } from '../src/engine/inspectApi';
import {
  createSession,
  LoadedModel,
  ModelTokenizer,
  prefillFeeds,
  prepareTappedModel,
} from '../src/engine/benchInternals';
import { textOfTokens } from './engineBench';
import { realSizeFixture, VARIANT_FILE } from './realSizeFixture';
import { median } from './stats';

export interface GpuRun {
  readonly model: string;
  readonly provider: string;
  /** The provider that ran (a fallback shows here), or null when it could not start. */
  readonly ran: ExecutionProviderName | null;
  readonly rawMs: number;
  readonly fullMs: number;
  readonly error?: string;
}

export interface GpuFigures {
  readonly card: string;
  readonly tokens: number;
  readonly runs: readonly GpuRun[];
  readonly llamaCpp: readonly { readonly backend: string; readonly ms: number; readonly error?: string }[];
}

function card(): string {
  try {
    return execFileSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    return 'no NVIDIA GPU (nvidia-smi not found)';
  }
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0];

async function timeModel(
  folder: string,
  file: string,
  dtype: 'auto' | 'q4',
  provider: 'cpu' | 'webgpu',
  text: string,
  tokens: number,
  rounds: number,
  cacheDir: string,
): Promise<GpuRun> {
  const label = path.basename(folder);
  try {
    const model = await LoadedModel.load(folder, { id: label, cacheDir, provider, dtype });
    const raw = await createSession(path.join(folder, file), provider);
    try {
      const ids = model.tokenizer.tokenize(text).ids.slice(0, tokens);
      const { heads, kvHeads, headDim, layers } = model.config;
      // The source graph's own inputs (the tap cache read them; the engine's load built this very entry).
      const { inputs } = await prepareTappedModel(path.join(folder, file), layers, cacheDir, {
        attention: { heads, kvHeads, headDim },
      });
      const feeds = prefillFeeds(await import('onnxruntime-node'), inputs, ids, {
        kvHeads: model.config.kvHeads,
        headDim: model.config.headDim,
        metadata: raw.session.inputMetadata,
      });
      const request: InspectRequest = {
        requestId: 1,
        text,
        model: '',
        provider,
        maxCharacters: 100_000_000,
        maxTokens: tokens,
        window: 'start',
        rowsOnDemand: true,
      };
      const rawMs: number[] = [];
      const fullMs: number[] = [];
      for (let round = 0; round <= rounds; round++) {
        let t = performance.now();
        await raw.session.run(feeds);
        const r = performance.now() - t;
        t = performance.now();
        await runInspection(model, request, { emit: () => undefined }, () => false);
        if (round === 0) continue; // warm-up (shader compilation on a GPU)
        rawMs.push(r);
        fullMs.push(performance.now() - t);
      }
      return { model: label, provider, ran: model.provider, rawMs: median(rawMs), fullMs: median(fullMs) };
    } finally {
      await raw.session.release();
      await model.dispose();
    }
  } catch (error) {
    return { model: label, provider, ran: null, rawMs: Number.NaN, fullMs: Number.NaN, error: message(error) };
  }
}

async function llamaCppPrefill(file: string, tokens: number, gpu: 'cuda' | false): Promise<number> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({
    gpu,
    build: 'never',
    skipDownload: true,
    progressLogs: false,
    logLevel: LlamaLogLevel.error,
  });
  const model = await llama.loadModel({ modelPath: file, gpuLayers: gpu ? 'max' : 0 });
  try {
    const context = await model.createContext({ contextSize: tokens + 256, batchSize: 2048 });
    const ids = Array.from({ length: tokens }, (_, i) => 3 + ((i * 7919) % 900));
    const started = performance.now();
    await context.getSequence().evaluateWithoutGeneratingNewTokens(ids as never[]);
    const ms = performance.now() - started;
    await context.dispose();
    return ms;
  } finally {
    await model.dispose();
  }
}

export async function runGpuBench(root: string, log: (line: string) => void, tokens = 2048): Promise<GpuFigures> {
  const gpu = card();
  log(`gpu: ${gpu}`);
  const cacheDir = path.join(root, '.cache', 'bench-gpu-cache');
  const embedded = path.join(root, 'models', 'pa-mini-llama');
  const q4 = await realSizeFixture(root, log, 'q4');
  const text = textOfTokens(await ModelTokenizer.load(embedded), root, tokens);
  const runs: GpuRun[] = [];
  for (const provider of ['cpu', 'webgpu'] as const) {
    runs.push(await timeModel(embedded, 'onnx/model.onnx', 'auto', provider, text, tokens, 3, cacheDir));
    runs.push(await timeModel(q4, VARIANT_FILE.q4, 'q4', provider, text, tokens, 2, cacheDir));
  }
  for (const r of runs)
    log(
      `gpu ${r.model} on ${r.provider}${r.ran && r.ran !== r.provider ? ` (ran ${r.ran})` : ''}: ` +
        (r.error ??
          `raw ${r.rawMs.toFixed(0)} ms, full ${r.fullMs.toFixed(0)} ms (${(r.fullMs / r.rawMs).toFixed(2)}×)`),
    );
  const gguf = path.join(root, '.cache', 'bench-longctx', 'qwen2.5-0.5b-shape-q5_0-v2.gguf');
  const llamaCpp: GpuFigures['llamaCpp'][number][] = [];
  if (!existsSync(gguf)) log('gpu: no same-shape GGUF yet (run --only longctx once first); llama.cpp skipped');
  else
    for (const backend of [false, 'cuda'] as const) {
      const name = backend || 'cpu';
      try {
        llamaCpp.push({ backend: name, ms: await llamaCppPrefill(gguf, tokens, backend) });
      } catch (error) {
        llamaCpp.push({ backend: name, ms: Number.NaN, error: message(error) });
      }
      const last = llamaCpp[llamaCpp.length - 1];
      log(`gpu llama.cpp ${name} prefill ${tokens} tokens: ${last.error ?? `${last.ms.toFixed(0)} ms`}`);
    }
  return { card: gpu, tokens, runs, llamaCpp };
}
