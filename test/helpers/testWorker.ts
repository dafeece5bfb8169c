// The inspector's real worker for integration tests: the bundled worker script, a temporary cache folder, and
// the tear-down that disposes the worker and removes the folder (one set-up shared by the worker tests).
import * as path from 'node:path';
import { InspectorWorker } from '../../src/worker/inspectorWorker';
import { buildBundle } from './buildBundle';
import { makeTempDir, removeTempDir } from './tinyModel';

/** A started worker and the temporary folder that holds its cache. */
export interface TestWorker {
  worker: InspectorWorker;
  dir: string;
}

/** Builds the worker bundle under `bundleName` and starts a worker over `modelsDir` with a fresh cache. */
export async function startTestWorker(bundleName: string, modelsDir: string): Promise<TestWorker> {
  const dir = await makeTempDir();
  const worker = new InspectorWorker({
    workerScript: await buildBundle('src/worker/worker.ts', bundleName),
    modelsDir,
    cacheDir: path.join(dir, 'cache'),
    idleTimeoutMs: 60_000,
  });
  return { worker, dir };
}

/** Disposes the worker, waits for its thread to exit (a process that ends first is aborted), removes its folder. */
export async function stopTestWorker({ worker, dir }: TestWorker): Promise<void> {
  worker.dispose();
  await worker.stopped();
  await removeTempDir(dir);
}
