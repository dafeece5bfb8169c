// The engine worker thread: loads models (kept warm), runs inspections one at a time, streams results
// to the host. A new inspection cancels the running one; cancellation is checked between stages and
// layers (a session.run in flight finishes, and its result is discarded).
import { parentPort, workerData } from 'node:worker_threads';
import { EngineError } from '../engine/engineError';
import { InspectionCancelled, runInspection } from '../engine/inspection';
import type { InspectRequest } from '../engine/inspectApi';
import { ModelCache } from '../engine/runtime/modelCache';
import type { HostToWorker, WorkerConfig, WorkerToHost } from './workerProtocol';
import { layerTransferList } from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('worker.ts must run as a worker thread');
const config = workerData as WorkerConfig;
const models = new ModelCache(config);
const cancelled = new Set<number>();
let latest = -1;
let queue: Promise<void> = Promise.resolve();

function post(message: WorkerToHost, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

function describe(error: unknown): string {
  if (error instanceof EngineError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return `Inspection failed: ${message.split('\n')[0]}`;
}

async function inspect(request: InspectRequest): Promise<void> {
  const id = request.requestId;
  const isCancelled = (): boolean => cancelled.has(id) || id !== latest;
  try {
    if (isCancelled()) throw new InspectionCancelled();
    const model = await models.get(request.model, request.provider, (progress) => post({ type: 'progress', requestId: id, progress }));
    if (isCancelled()) throw new InspectionCancelled();
    await runInspection(
      model,
      request,
      {
        onProgress: (progress) => post({ type: 'progress', requestId: id, progress }),
        onStart: (header) => post({ type: 'start', requestId: id, header }),
        onLayer: (layer) => post({ type: 'layer', requestId: id, layer }, layerTransferList(layer)),
        onDone: (summary) => post({ type: 'done', requestId: id, summary }),
      },
      isCancelled,
    );
  } catch (error) {
    if (error instanceof InspectionCancelled) post({ type: 'cancelled', requestId: id });
    else post({ type: 'error', requestId: id, message: describe(error) });
  } finally {
    cancelled.delete(id);
  }
}

port.on('message', (message: HostToWorker) => {
  switch (message.type) {
    case 'inspect':
      latest = message.request.requestId;
      queue = queue.then(() => inspect(message.request));
      break;
    case 'cancel':
      cancelled.add(message.requestId);
      break;
    case 'simulate-crash':
      if (config.testHooks) process.exit(70);
      break;
  }
});
