// The engine worker thread: loads models (kept warm), runs inspections one at a time, streams their events
// to the host. A new inspection cancels the running one; cancellation is checked between stages and
// layers (a session.run in flight finishes, and its result is discarded). A cancelled run posts nothing more.
import { parentPort, workerData } from 'node:worker_threads';
import {
  errorEvent,
  type ExactRowSource,
  InspectionCancelled,
  ModelCache,
  runInspection,
  type InspectRequest,
} from '../engine/inspectApi';
import type { AttentionRowReply, AttentionRowRequest } from '../shared/attentionRowRequest';
import { rowReplyTransferList, rowUnavailable } from '../shared/attentionRowRequest';
import { firstLine } from '../shared/errorText';
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
/** The last finished run's kept Q and K: rows on demand are computed from them until the next inspection. */
let exact: { readonly inspection: number; readonly rows: ExactRowSource } | null = null;

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
    await runInspection(
      model,
      request,
      { emit: post, onExactRows: (rows) => (exact = rows ? { inspection: id, rows } : null) },
      isCancelled,
    );
  } catch (error) {
    if (!(error instanceof InspectionCancelled)) post(errorEvent(id, error));
  } finally {
    cancelled.delete(id);
    queued--;
    if (queued === 0) garbage.settle();
  }
}

function answerRow(request: AttentionRowRequest): void {
  const base = {
    kind: 'attention-row',
    inReplyTo: request.requestId,
    inspection: request.inspection,
    layer: request.layer,
    head: request.head,
    query: request.query,
  } as const;
  let reply: AttentionRowReply;
  if (!exact || exact.inspection !== request.inspection) reply = rowUnavailable(request);
  else {
    try {
      reply = { ...base, weights: exact.rows.row(request.layer, request.head, request.query) };
    } catch (error) {
      reply = { ...base, error: firstLine(error) };
    }
  }
  port?.postMessage(reply, rowReplyTransferList(reply));
}

port.on('message', (message: HostToWorker) => {
  switch (message.type) {
    case 'attention-row':
      answerRow(message.request);
      break;
    case 'inspect':
      // The next run's Q and K replace these: they become garbage the heap budget counts, as a run's outputs do.
      if (exact) garbage.add(exact.rows.bytes);
      exact = null;
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
