// The engine worker thread: loads models (kept warm), runs inspections one at a time, streams their events
// to the host. A new inspection cancels the running one; cancellation is checked between stages and
// layers (a session.run in flight finishes, and its result is discarded). A cancelled run posts nothing more.
import { parentPort, workerData } from 'node:worker_threads';
import { errorEvent, InspectionCancelled, ModelCache, runInspection, type InspectRequest } from '../engine/inspectApi';
import { eventTransferList, type InspectionEvent } from '../shared/protocol';
import { fullCollectionFunction, GarbageBudget } from './heapCollection';
import type { HostToWorker, WorkerConfig } from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('worker.ts must run as a worker thread');
const config = workerData as WorkerConfig;
const models = new ModelCache(config);
const cancelled = new Set<number>();
let latest = -1;
let queue: Promise<void> = Promise.resolve();
let queued = 0;
const garbage = new GarbageBudget(fullCollectionFunction());

function post(event: InspectionEvent): void {
  const transfer = eventTransferList(event);
  // What a run moves out is about what it left behind as garbage (the outputs these were copied from).
  for (const buffer of transfer) garbage.add(buffer.byteLength);
  port?.postMessage(event, transfer);
}

async function inspect(request: InspectRequest): Promise<void> {
  const id = request.requestId;
  const isCancelled = (): boolean => cancelled.has(id) || id !== latest;
  try {
    if (isCancelled()) throw new InspectionCancelled();
    const model = await models.get(
      request.model,
      request.provider,
      (progress) => post({ kind: 'progress', requestId: id, ...progress }),
      request.dtype,
    );
    if (isCancelled()) throw new InspectionCancelled();
    await runInspection(model, request, { emit: post }, isCancelled);
  } catch (error) {
    if (!(error instanceof InspectionCancelled)) post(errorEvent(id, error));
  } finally {
    cancelled.delete(id);
    queued--;
    if (queued === 0) garbage.settle();
  }
}

port.on('message', (message: HostToWorker) => {
  switch (message.type) {
    case 'inspect':
      latest = message.request.requestId;
      queued++;
      queue = queue.then(() => inspect(message.request));
      break;
    case 'cancel':
      cancelled.add(message.requestId);
      if (message.requestId === latest) models.abortDownload();
      break;
    case 'simulate-crash':
      if (config.testHooks) process.exit(70);
      break;
    case 'collect-garbage':
      if (config.testHooks) (globalThis as { gc?: () => void }).gc?.();
      break;
  }
});
