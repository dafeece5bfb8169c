// Shared pieces of the fault-injection suite: the real worker bundle, a recorder that folds an inspection's
// events into one outcome, the check that nothing half-written is left in a folder, and a size-limited
// (or read-only) tmpfs mount where the test runs as root with CAP_SYS_ADMIN (CI does), else null so the
// case falls back to an fs shim and says so.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InspectRequest } from '../../src/engine/inspectApi';
import { cpuInspectRequest } from '../helpers/inspectRequest';
import type {
  InspectionEventSink,
  InspectionHeader,
  InspectionSummary,
  LayerAttention,
} from '../../src/shared/protocol';
import { InspectorWorker } from '../../src/worker/inspectorWorker';
import { buildBundle } from '../helpers/buildBundle';

export interface Outcome {
  header?: InspectionHeader;
  readonly layers: LayerAttention[];
  summary?: InspectionSummary;
  error?: string;
}

/** The short prompt every fault scenario inspects. */
export const TEXT = 'The fox jumps over the dog. The fox jumps again, and the dog sleeps on.';

export function recorder(onLayer?: (layer: LayerAttention) => void): { sink: InspectionEventSink; outcome: Outcome } {
  const outcome: Outcome = { layers: [] };
  const sink: InspectionEventSink = (event) => {
    if (event.kind === 'header') outcome.header = event.header;
    else if (event.kind === 'layer') {
      outcome.layers.push(event.layer);
      onLayer?.(event.layer);
    } else if (event.kind === 'summary') outcome.summary = event.summary;
    else if (event.kind === 'error') outcome.error = event.message;
  };
  return { sink, outcome };
}

let workerScript: Promise<string> | undefined;

/** The worker as the extension ships it (one esbuild bundle, built once per test file). */
export function workerBundle(): Promise<string> {
  workerScript ??= buildBundle('src/worker/worker.ts', 'worker-faults');
  return workerScript;
}

export async function makeWorker(
  cacheDir: string,
  modelsDir: string,
  extra: { hubEndpoint?: string } = {},
): Promise<InspectorWorker> {
  return new InspectorWorker({
    workerScript: await workerBundle(),
    modelsDir,
    cacheDir,
    idleTimeoutMs: 600_000,
    testHooks: true,
    ...extra,
  });
}

let ids = 0;
export function request(model: string, text: string, extra: Partial<InspectRequest> = {}): InspectRequest {
  return cpuInspectRequest(++ids, model, text, extra);
}

export async function inspect(
  worker: InspectorWorker,
  req: InspectRequest,
  onLayer?: (layer: LayerAttention) => void,
): Promise<Outcome> {
  const { sink, outcome } = recorder(onLayer);
  await worker.inspect(req, sink).finished;
  return outcome;
}

/** A complete, clean result: header, every layer, summary, no error. */
export function assertClean(outcome: Outcome, layers: number): void {
  assert.equal(outcome.error, undefined, `the inspection failed: ${outcome.error}`);
  assert.ok(outcome.header && outcome.header.tokens.length > 0, 'no header');
  assert.equal(outcome.layers.length, layers);
  assert.deepEqual(
    outcome.layers.map((l) => l.layer),
    [...Array(layers).keys()],
  );
  assert.ok(outcome.summary, 'no summary');
}

/** One line for the user: no stack frame, no "undefined", no "[object". */
export function assertOneLine(message: string | undefined, pattern: RegExp): void {
  assert.ok(message, 'no error message');
  assert.match(message, pattern);
  assert.ok(
    !message.includes('\n') && !/\bat .+:\d+:\d+|\bundefined\b|\[object /.test(message),
    `unclear message: ${message}`,
  );
}

export function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => f.split(path.sep).join('/')).sort();
}

/** No temporary file, no partial download folder, and every tapped entry complete (has its meta.json). */
export function assertNothingHalfWritten(dir: string): void {
  const files = listFiles(dir);
  const partial = files.filter((f) => /\.tmp$|\.partial|\.part$|\.download$/.test(f));
  assert.deepEqual(partial, [], `half-written files left in ${dir}`);
  const entries = new Set(
    files.filter((f) => /^tapped\/[^/]+\//.test(f)).map((f) => f.split('/').slice(0, 2).join('/')),
  );
  for (const entry of entries)
    assert.ok(files.includes(`${entry}/meta.json`), `tapped entry ${entry} has no meta.json: ${files.join(', ')}`);
}

export interface Mount {
  readonly dir: string;
  remount(options: string): void;
  unmount(): void;
}

/** A tmpfs of `size` (e.g. "256k") at `dir`, or null where this process may not mount. */
export function mountTmpfs(dir: string, size: string): Mount | null {
  fs.mkdirSync(dir, { recursive: true });
  // PA_FAULTS_NO_MOUNT=1 runs the fs-shim fallback on a machine that could mount.
  if (process.platform !== 'linux' || process.getuid?.() !== 0 || process.env.PA_FAULTS_NO_MOUNT) return null;
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], {
    encoding: 'utf8',
  });
  if (mounted.status !== 0) return null;
  return {
    dir,
    remount: (options) => {
      const result = spawnSync('mount', ['-o', `remount,${options}`, dir], { encoding: 'utf8' });
      assert.equal(result.status, 0, `remount ${options}: ${result.stderr}`);
    },
    unmount: () => {
      spawnSync('umount', ['-l', dir]);
    },
  };
}

/** process RSS after a full GC (the worker thread lives in this process; needs --expose-gc). */
export async function settledRss(worker?: InspectorWorker): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    worker?.collectGarbage(); // the worker's heap too: its garbage is not what it keeps
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return process.memoryUsage().rss;
}
