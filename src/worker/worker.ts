// The engine worker thread: loads models (kept warm), runs inspections, attributions and section diffs one at
// a time, streams their events to the host through the shared request/reply mechanism. A new inspection
// cancels the running one; cancellation is checked between stages, layers and ablation batches (a
// session.run in flight finishes, and its result is discarded). A cancelled request posts nothing more.
import { parentPort, workerData } from 'node:worker_threads';
import {
  AnswerSessions,
  type AnswerToken,
  attributionReport,
  EngineError,
  generateAnswer,
  readGivenAnswer,
  errorEvent,
  ExplainSessions,
  InspectionCancelled,
  isModelDtype,
  ModelCache,
  runInspection,
  sectionDiffReport,
  type GeneratedToken,
  type InspectRequest,
} from '../engine/inspectApi';
import { rowReplyTransferList } from '../shared/attentionRowRequest';
import { rolloutReplyTransferList } from '../shared/rolloutRowsRequest';
import { firstLine } from '../shared/errorText';
import type { AnswerTokenEvent, ExplainEvent } from '../shared/explainReport';
import { eventTransferList, type InspectionEvent } from '../shared/protocol';
import { MessageHandler, type Envelope, type Served } from '../shared/requestReply';
import { fullCollectionFunction, GarbageBudget } from './heapCollection';
import { answerAttentionRow, answerRolloutRows, type KeptRows } from './rowAnswer';
import {
  ATTENTION_ROW,
  ATTRIBUTE,
  GENERATE,
  INSPECT,
  ROLLOUT_ROWS,
  SECTION_DIFF,
  type ShutdownMessage,
  type TestHook,
  type WorkerConfig,
} from './workerProtocol';

const port = parentPort;
if (!port) throw new Error('worker.ts must run as a worker thread');
const config = workerData as WorkerConfig;
const models = new ModelCache(config);
const explainSessions = new ExplainSessions(models);
const answerSessions = new AnswerSessions();
let latestInspection = -1;
let queue: Promise<unknown> = Promise.resolve();
let queued = 0;
const garbage = new GarbageBudget(fullCollectionFunction());
/** The last finished run's kept Q and K: rows on demand are computed from them until the next inspection. */
let exact: KeptRows | null = null;

const handler = new MessageHandler(
  (message: Envelope, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer ?? []),
  (error) =>
    error instanceof EngineError
      ? { message: error.message }
      : {
          message: `Internal error: ${firstLine(error)}`,
          ...(error instanceof Error && error.stack ? { detail: error.stack } : {}),
        },
);

/** Requests run one after another: one model, one thread. */
function enqueue<T>(work: () => Promise<T>): Promise<T> {
  queued++;
  const run = queue.then(work).finally(() => {
    queued--;
    if (queued === 0) garbage.settle();
  });
  queue = run.catch(() => undefined);
  return run;
}

async function inspect(request: InspectRequest, served: Served<InspectionEvent>): Promise<null> {
  const id = request.requestId;
  const isCancelled = (): boolean => served.isCancelled() || served.id !== latestInspection;
  const post = (event: InspectionEvent): void => {
    const transfer = eventTransferList(event);
    // What a run moves out stands for what it left behind as garbage (its other outputs, the sources of copies).
    for (const buffer of transfer) garbage.add(buffer.byteLength);
    served.emit(event, transfer);
  };
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
    // The row kernel's sessions are made now that the run is done (once per shape), not in the first hover.
    if (exact?.inspection === id) preparing = exact.rows.prepare?.() ?? null;
  } catch (error) {
    if (!(error instanceof InspectionCancelled)) post(errorEvent(id, error));
  }
  return null;
}

/** A cancelled attribution or diff ends quietly: the handler posts nothing for a cancelled request. */
function explainContext(served: Served<ExplainEvent>) {
  return {
    onEvent: (event: ExplainEvent) => served.emit(event),
    isCancelled: () => served.isCancelled(),
  };
}

handler.serve(INSPECT, (request, served) => {
  latestInspection = served.id;
  // The next run's Q and K replace these: they become garbage the heap budget counts, as a run's outputs do.
  if (exact) garbage.add(exact.rows.bytes);
  exact = null;
  return enqueue(() => inspect(request, served));
});

handler.serve(ATTRIBUTE, (params, served) =>
  enqueue(async () => {
    const session = await explainSessions.get(params, (progress) => served.emit({ kind: 'load', progress }));
    return attributionReport({ ...session, ...explainContext(served) }, params);
  }),
);

handler.serve(SECTION_DIFF, (params, served) =>
  enqueue(async () => {
    if (params.oldText === params.newText) return null;
    const session = await explainSessions.get(params, (progress) => served.emit({ kind: 'load', progress }));
    return sectionDiffReport({ ...session, ...explainContext(served) }, params);
  }),
);

handler.serve(GENERATE, (params, served) =>
  enqueue(async () => {
    const dtype = params.dtype !== undefined && isModelDtype(params.dtype) ? params.dtype : 'auto';
    const loaded = await models.get(
      params.model,
      params.provider,
      (progress) => served.emit({ kind: 'load', progress }),
      dtype,
    );
    const session = await answerSessions.get(loaded, { provider: params.provider, dtype });
    if (params.given) {
      const given = await readGivenAnswer(
        loaded,
        session,
        params.given.prompt,
        params.given.answer,
        (token, read) => served.emit(...tokenEvent(token, read, read.rows)),
        { rollout: true },
      );
      return { text: given.text, tokens: given.tokens, kvCache: given.kvCache };
    }
    const answer = await generateAnswer(loaded, session, params.promptIds, {
      maxTokens: params.maxTokens,
      temperature: params.temperature,
      seed: params.seed,
      provider: params.provider,
      dtype,
      isCancelled: () => served.isCancelled(),
      rollout: true,
      onToken: (token, generated) =>
        served.emit(
          ...tokenEvent(
            token,
            generated,
            generated.rows.map((r) => r.slice()),
          ),
        ),
    });
    return { text: answer.text, tokens: answer.tokens, kvCache: answer.kvCache };
  }),
);

/** An answer token's event and what it transfers: `rows` (its own, or copies), its rollout and value-norm rows. */
function tokenEvent(
  token: AnswerToken,
  read: GeneratedToken,
  rows: readonly Float32Array[],
): [AnswerTokenEvent, ArrayBuffer[]] {
  const rollout = read.rollout ?? [];
  const valueNorm = read.valueNorm ?? [];
  return [
    {
      index: read.index,
      ...token,
      keys: read.keys,
      rows,
      ...(read.rollout ? { rollout } : {}),
      ...(read.valueNorm ? { valueNorm } : {}),
    },
    [...rows, ...rollout, ...valueNorm].map((r) => r.buffer as ArrayBuffer),
  ];
}

handler.serve(ATTENTION_ROW, async (request, served) => {
  const reply = await answerAttentionRow(exact, request);
  served.transferWithReply(rowReplyTransferList(reply));
  return reply;
});

/** The rollout rows request being answered: a newer one stops it at its next block. */
let latestRollout = -1;

handler.serve(ROLLOUT_ROWS, async (request, served) => {
  latestRollout = served.id;
  const kept = exact;
  const reply = await answerRolloutRows(
    kept,
    request,
    (progress) => served.emit(progress),
    () => served.isCancelled() || served.id !== latestRollout || exact !== kept,
  );
  served.transferWithReply(rolloutReplyTransferList(reply));
  return reply;
});

/** The row kernel's sessions being made after a run (native work the worker waits for before it exits). */
let preparing: Promise<void> | null = null;

/** Ends the worker once its native work is done: requests are cancelled, their handlers return, then it exits. */
async function shutdown(): Promise<void> {
  await handler.drain();
  await preparing;
  process.exit(0);
}

port.on('message', (message: Envelope | TestHook | ShutdownMessage) => {
  if ((message as ShutdownMessage).type === 'shutdown') {
    void shutdown();
    return;
  }
  if (handler.handle(message)) {
    // A cancelled download stops at once rather than at the next check.
    if ((message as Envelope).rpc === 'cancel' && (message as Envelope).id === latestInspection) models.abortDownload();
    return;
  }
  const hook = message as TestHook;
  if (hook.type === 'simulate-crash' && config.testHooks) process.exit(70);
  if (hook.type === 'collect-garbage' && config.testHooks) (globalThis as { gc?: () => void }).gc?.();
});
