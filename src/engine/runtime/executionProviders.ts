// Creates the onnxruntime session on the requested execution provider, falling back to CPU with a
// one-line reason (also when the tapped graph needs an output only the CPU kernels give). onnxruntime-node does not
// fall back by itself (session creation throws), and a GPU provider may hang in native code, so each GPU attempt is
// bounded in time: on timeout the attempt is abandoned (its session, if it ever arrives, is released) and CPU goes
// ahead. A built graph's CPU session goes through the optimized graph saved in its cache entry (savedGraph.ts).
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { ExecutionProviderName, ExecutionProviderSetting } from '../../shared/protocol';
import type { SavedGraphUse } from './savedGraph';
import { savedGraphName, sessionWithSavedGraph } from './savedGraph';

export interface ProviderSession {
  readonly session: ort.InferenceSession;
  readonly provider: ExecutionProviderName;
  readonly fallbackReason?: string;
  /** On CPU with `saveOptimizedGraph`: whether the saved optimized graph ran, and any problem with it. */
  readonly savedGraph?: SavedGraphUse;
}

export interface ProviderOptions {
  readonly timeoutMs?: number;
  /** For tests: replaces onnxruntime's session creation. */
  readonly create?: (modelPath: string, options: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>;
  /** For tests: the platform and bundled backends to plan for. */
  readonly platform?: NodeJS.Platform;
  readonly bundled?: readonly string[];
  /** Backends the build knows at all (listSupportedBackends); a provider outside it is unavailable. */
  readonly known?: readonly string[];
  /** For tests: replaces the cheap system check done before trying a provider. */
  readonly preflight?: (provider: ExecutionProviderName, platform: NodeJS.Platform) => string | null;
  /** Set when the graph can run only on CPU (what it must output has no GPU kernel): the reason, one line. */
  readonly cpuOnlyReason?: string;
  /** On CPU: keep onnxruntime's optimized graph beside the model and load it from there next time. */
  readonly saveOptimizedGraph?: boolean;
}

export const DEFAULT_PROVIDER_TIMEOUT_MS = 20_000;

function cudaLibraryPresent(): boolean {
  try {
    const binding = path.dirname(require.resolve('onnxruntime-node/package.json'));
    return existsSync(path.join(binding, 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'));
  } catch {
    return false;
  }
}

const VULKAN_DIRS = [
  '/usr/lib/x86_64-linux-gnu',
  '/usr/lib/aarch64-linux-gnu',
  '/usr/lib64',
  '/usr/lib',
  '/lib/x86_64-linux-gnu',
  '/lib64',
  '/lib',
];

/**
 * A reason a provider cannot start that is cheap to see without trying: WebGPU on Linux runs on Vulkan,
 * and without the Vulkan loader the attempt only prints native warnings before failing.
 */
export function systemPreflight(provider: ExecutionProviderName, platform: NodeJS.Platform): string | null {
  if (provider !== 'webgpu' || platform !== 'linux') return null;
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...VULKAN_DIRS];
  return dirs.some((dir) => existsSync(path.join(dir, 'libvulkan.so.1')))
    ? null
    : 'no Vulkan loader (libvulkan.so.1) on this system';
}

/** GPU providers to try, in order, for a setting. */
export function gpuCandidates(
  setting: ExecutionProviderSetting,
  platform: NodeJS.Platform,
  bundled: readonly string[],
): ExecutionProviderName[] {
  if (setting === 'cpu') return [];
  if (setting !== 'auto') return [setting];
  const list: ExecutionProviderName[] = [];
  if (bundled.includes('webgpu')) list.push('webgpu');
  if (platform === 'win32' && bundled.includes('dml')) list.push('dml');
  if (platform === 'darwin' && bundled.includes('coreml')) list.push('coreml');
  if (platform === 'linux' && (bundled.includes('cuda') || cudaLibraryPresent())) list.push('cuda');
  return list;
}

/** Backends this onnxruntime-node build knows (bundled or loadable); others are dropped silently by it. */
async function knownBackends(): Promise<{ bundled: string[]; known: string[] }> {
  const runtime = await import('onnxruntime-node');
  try {
    const list = runtime.listSupportedBackends();
    return { bundled: list.filter((b) => b.bundled).map((b) => b.name), known: list.map((b) => b.name) };
  } catch {
    return { bundled: ['cpu'], known: ['cpu'] };
  }
}

/** onnxruntime's native errors start with a source location and a C++ signature; keep the human part. */
export function cleanProviderError(message: string): string {
  let text = message.split('\n')[0].replace(/^\S+\.(?:cc|cpp|h):\d+\s+/, '');
  const asserted = text.lastIndexOf(' was false. ');
  if (asserted >= 0) text = text.slice(asserted + ' was false. '.length);
  return text.trim().slice(0, 160);
}

function withTimeout<T>(promise: Promise<T>, ms: number, onLate: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new Error(`did not start within ${Math.round(ms / 1000)} s`));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        if (settled) onLate(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!settled) reject(error);
      },
    );
  });
}

export async function createSession(
  modelPath: string,
  setting: ExecutionProviderSetting,
  options: ProviderOptions = {},
): Promise<ProviderSession> {
  const runtime = await import('onnxruntime-node');
  const create =
    options.create ?? ((p: string, o: ort.InferenceSession.SessionOptions) => runtime.InferenceSession.create(p, o));
  // Severity 4 (fatal only): a GPU provider that cannot start logs native errors we already report in one line.
  // No memory pattern: onnxruntime keeps one per input shape and grows its arena to hold each as a block, so
  // inspections of mixed lengths grew the worker by ~400 MiB (bench soak); without it, no slower (bench).
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    logSeverityLevel: 4,
    enableMemPattern: false,
  };
  const platform = options.platform ?? process.platform;
  const backends =
    options.bundled && options.known ? { bundled: options.bundled, known: options.known } : await knownBackends();
  const bundled = options.bundled ?? backends.bundled;
  const known = options.known ?? backends.known;
  const failures: string[] = [];
  let savedGraph: SavedGraphUse | undefined;
  const cpu = (): Promise<ort.InferenceSession> => {
    const cpuOptions: ort.InferenceSession.SessionOptions = { ...base, executionProviders: ['cpu'] };
    if (!options.saveOptimizedGraph) return create(modelPath, cpuOptions);
    const name = savedGraphName(runtime.env.versions.node ?? runtime.env.versions.common, 'cpu');
    return sessionWithSavedGraph(modelPath, name, cpuOptions, create, (use) => (savedGraph = use));
  };
  const candidates = gpuCandidates(setting, platform, bundled);
  if (options.cpuOnlyReason && candidates.length > 0) {
    // Only an explicit GPU request is worth a note; 'auto' quietly takes the provider that can run the graph.
    const session = await cpu();
    return {
      session,
      provider: 'cpu',
      ...(savedGraph ? { savedGraph } : {}),
      ...(setting !== 'auto' ? { fallbackReason: `${options.cpuOnlyReason}; ran on CPU.` } : {}),
    };
  }
  for (const provider of candidates) {
    // onnxruntime-node drops providers it does not know with a warning and runs on CPU: say so instead.
    if (!known.includes(provider)) {
      failures.push(`${provider} is not available in this onnxruntime build for ${platform}`);
      continue;
    }
    const blocked = (options.preflight ?? systemPreflight)(provider, platform);
    if (blocked) {
      failures.push(`${provider} unavailable (${blocked})`);
      continue;
    }
    try {
      const session = await withTimeout(
        create(modelPath, { ...base, executionProviders: [provider, 'cpu'] }),
        options.timeoutMs ?? DEFAULT_PROVIDER_TIMEOUT_MS,
        (late) => void late.release().catch(() => undefined),
      );
      return { session, provider, ...(failures.length ? { fallbackReason: failures.join('; ') } : {}) };
    } catch (error) {
      failures.push(
        `${provider} unavailable (${cleanProviderError(error instanceof Error ? error.message : String(error))})`,
      );
    }
  }
  const session = await cpu();
  return {
    session,
    provider: 'cpu',
    ...(savedGraph ? { savedGraph } : {}),
    ...(failures.length ? { fallbackReason: `${failures.join('; ')}; ran on CPU.` } : {}),
  };
}
