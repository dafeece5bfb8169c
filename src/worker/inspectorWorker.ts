// Host-side owner of the engine worker thread. The host never blocks: everything heavy happens in the
// worker. Requests go through the shared request/reply mechanism (shared/requestReply.ts): one inspection at a
// time (a new one cancels the previous), attributions and section diffs queued behind it on the same warm
// model; crash → a one-line error to every caller waiting and a fresh worker on the next request, idle → the
// worker (and its warm sessions) is released.
import { Worker } from 'node:worker_threads';
import type { InspectHandle, InspectRequest } from '../engine/inspectApi';
import type { InspectionEventSink } from '../shared/protocol';
import type {
  AnswerTokenEvent,
  AttributeJson,
  AttributeParams,
  DiffJson,
  DiffParams,
  ExplainEvent,
  GenerateParams,
  GenerateReply,
} from '../shared/explainReport';
import type { AttentionRowReply, AttentionRowRequest } from '../shared/attentionRowRequest';
import { rowUnavailable } from '../shared/attentionRowRequest';
import type { RolloutRowsProgress, RolloutRowsReply, RolloutRowsRequest } from '../shared/rolloutRowsRequest';
import { rolloutUnavailable } from '../shared/rolloutRowsRequest';
import { Disposable } from '../util/disposable';
import { firstLine } from '../shared/errorText';
import { silentLog, type Log } from '../shared/log';
import { MessageHandler, RequestFailed, type Call, type Envelope, type Request } from '../shared/requestReply';
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

/** A worker asked to shut down that has not exited after this long (a hung tokenizer regex, say) is terminated. */
const SHUTDOWN_GRACE_MS = 5 * 60_000;

export interface InspectorWorkerOptions {
  /** dist/worker.js (or a .ts file under tsx in tests). */
  readonly workerScript: string;
  /** Folder holding the embedded model `pa-mini-llama`. */
  readonly modelsDir: string;
  /** Tapped graphs and Hub downloads (the extension's global storage, or ~/.cache/prompt-attention). */
  readonly cacheDir: string;
  readonly idleTimeoutMs: number;
  readonly hubEndpoint?: string;
  /** The Hub token from the extension's SecretStorage (never logged). */
  readonly hubToken?: string;
  /** Tests only: lets the worker honour a simulated crash. */
  readonly testHooks?: boolean;
  /** Where crashes go with their stack (default: nowhere). */
  readonly log?: Log;
  /** Longest the worker may spend tokenizing before it is restarted (default 10 s; a hostile tokenizer.json regex). */
  readonly tokenizeTimeoutMs?: number;
}

const TOKENIZE_TIMEOUT_MS = 10_000;

interface ActiveInspection {
  readonly requestId: number;
  readonly listener: InspectionEventSink;
  readonly call: Call<null>;
}

/** An attribution or a diff in flight: its progress listener and how to stop it. */
export interface ExplainHandle<T> {
  readonly result: Promise<T>;
  cancel(): void;
}

export class InspectorWorker extends Disposable {
  private worker: Worker | null = null;
  /** Every thread started that has not exited yet (a released one may still finish native work). */
  private readonly exits = new Map<Worker, Promise<void>>();
  private handler: MessageHandler | null = null;
  private active: ActiveInspection | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Armed while the worker tokenizes: tokenization is synchronous, so a runaway regex blocks the thread. */
  private tokenizeTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: InspectorWorkerOptions) {
    super();
    this._register({ dispose: () => this.shutdown() });
  }

  /**
   * Settles when every thread this object started has exited. A released thread finishes its native work first,
   * and a process that exits before then is aborted by it ("terminate called after throwing an instance of
   * 'Napi::Error'"), so whatever ends the process on purpose waits for this.
   */
  async stopped(): Promise<void> {
    for (const worker of this.exits.keys()) worker.ref(); // a released thread is unref'd: wait for it all the same
    await Promise.all(this.exits.values());
  }

  /** Whether a worker thread is running now (false after an idle release or a crash). */
  get isRunning(): boolean {
    return this.worker !== null;
  }

  inspect(request: InspectRequest, listener: InspectionEventSink): InspectHandle {
    if (this.isDisposed) throw new Error('InspectorWorker is disposed');
    this.cancelActive();
    const handler = this.ensureHandler();
    let active: ActiveInspection | null = null;
    const call = handler.request(INSPECT, request, {
      onEvent: (event) => {
        if (this.worker) this.watchTokenize(this.worker, event.kind === 'progress' && event.stage === 'tokenize');
        if (active && this.active === active && event.requestId === request.requestId) listener(event);
      },
    });
    active = { requestId: request.requestId, listener, call };
    this.active = active;
    const current = active;
    const finished = this.track(call.reply).then(
      () => undefined,
      (error: unknown) => {
        // The worker stopped (crash, tokenize watchdog): the listener hears it as the inspection's error.
        if (this.active === current && error instanceof RequestFailed && !error.cancelled)
          listener({ kind: 'error', requestId: request.requestId, message: error.message });
      },
    );
    void finished.then(() => {
      if (this.active === current) this.active = null;
    });
    return { finished, cancel: () => this.active === current && this.cancelActive() };
  }

  /** Attributes an answer to the prompt's sections in the worker, on the warm model. */
  attribute(params: AttributeParams, onEvent: (event: ExplainEvent) => void): ExplainHandle<AttributeJson> {
    return this.explain(ATTRIBUTE, params, onEvent);
  }

  /** Compares two versions of a prompt section by section in the worker; null: no difference. */
  sectionDiff(params: DiffParams, onEvent: (event: ExplainEvent) => void): ExplainHandle<DiffJson | null> {
    return this.explain(SECTION_DIFF, params, onEvent);
  }

  /** The model continues `params.promptIds`, each token streamed with its attention rows; cancel stops it. */
  generate(
    params: GenerateParams,
    onEvent: (event: AnswerTokenEvent | ExplainEvent) => void,
  ): ExplainHandle<GenerateReply> {
    return this.explain(GENERATE, params, onEvent);
  }

  /**
   * One exact row of the last inspection, computed in the worker from the Q and K it kept. Never starts a
   * worker: without one (idle release, crash) the inspection is gone, and the reply says so.
   */
  attentionRow(request: AttentionRowRequest): Promise<AttentionRowReply> {
    if (this.isDisposed || !this.worker || !this.handler) return Promise.resolve(rowUnavailable(request));
    const call = this.handler.request(ATTENTION_ROW, request);
    return this.track(call.reply).catch(() => rowUnavailable(request));
  }

  /**
   * Rollout rows of the last inspection, computed in the worker's background from the Q and K it kept, with
   * progress per layer. `cancel` stops it at its next block; the reply then rejects (nothing to show). Never starts
   * a worker, as attentionRow.
   */
  rolloutRows(
    request: RolloutRowsRequest,
    onProgress: (progress: RolloutRowsProgress) => void,
  ): { readonly reply: Promise<RolloutRowsReply>; cancel(): void } {
    if (this.isDisposed || !this.worker || !this.handler)
      return { reply: Promise.resolve(rolloutUnavailable(request)), cancel: () => undefined };
    const call = this.handler.request(ROLLOUT_ROWS, request, { onEvent: onProgress });
    return {
      reply: this.track(call.reply).catch((error: unknown) => {
        if (error instanceof RequestFailed && error.cancelled) throw error;
        return rolloutUnavailable(request);
      }),
      cancel: () => call.cancel(),
    };
  }

  /** Tests only: makes the worker exit abruptly (needs testHooks). */
  simulateCrash(): void {
    this.worker?.postMessage({ type: 'simulate-crash' } satisfies TestHook);
  }

  /** Tests only: a full collection of the worker's heap (needs testHooks and a process run with --expose-gc). */
  collectGarbage(): void {
    this.worker?.postMessage({ type: 'collect-garbage' } satisfies TestHook);
  }

  private explain<P, R, E>(type: Request<P, R, E>, params: P, onEvent: (event: E) => void): ExplainHandle<R> {
    if (this.isDisposed) throw new Error('InspectorWorker is disposed');
    const call = this.ensureHandler().request(type, params, { onEvent });
    return { result: this.track(call.reply), cancel: () => call.cancel() };
  }

  /** Holds the process (and the worker) while a request runs; arms the idle release when none is left. */
  private track<T>(reply: Promise<T>): Promise<T> {
    this.clearIdleTimer();
    this.worker?.ref();
    return reply.finally(() => {
      if ((this.handler?.pending ?? 0) === 0) this.armIdleTimer();
    });
  }

  private ensureHandler(): MessageHandler {
    if (this.handler && this.worker) return this.handler;
    const workerData: WorkerConfig = {
      modelsDir: this.options.modelsDir,
      cacheDir: this.options.cacheDir,
      ...(this.options.hubEndpoint ? { hubEndpoint: this.options.hubEndpoint } : {}),
      ...(this.options.hubToken ? { hubToken: this.options.hubToken } : {}),
      ...(this.options.testHooks ? { testHooks: true } : {}),
    };
    const worker = new Worker(this.options.workerScript, { workerData });
    const exit = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.exits.set(worker, exit);
    void exit.then(() => this.exits.delete(worker));
    const handler = new MessageHandler((message: Envelope, transfer?: ArrayBuffer[]) =>
      worker.postMessage(message, transfer ?? []),
    );
    worker.on('message', (message: unknown) => {
      if (this.worker !== worker) return;
      if (!handler.handle(message))
        (this.options.log ?? silentLog).warn('The inspector worker sent an unknown message');
    });
    worker.on('error', (error) => this.onCrash(worker, error.message, error));
    worker.on('exit', (code) => this.onCrash(worker, `exit code ${code}`));
    this.worker = worker;
    this.handler = handler;
    return handler;
  }

  private cancelActive(): void {
    const active = this.active;
    if (!active) return;
    this.active = null;
    active.call.cancel();
  }

  /** Any event ends the tokenize watch; a tokenize progress event starts it. */
  private watchTokenize(worker: Worker, tokenizing: boolean): void {
    if (this.worker !== worker) return;
    this.clearTokenizeTimer();
    if (!tokenizing) return;
    const limitMs = this.options.tokenizeTimeoutMs ?? TOKENIZE_TIMEOUT_MS;
    this.tokenizeTimer = setTimeout(() => {
      this.tokenizeTimer = null;
      if (this.worker !== worker) return;
      (this.options.log ?? silentLog).error(`Tokenizing ran past ${limitMs} ms; the worker is terminated`);
      const seconds = limitMs >= 1000 ? `${Math.round(limitMs / 1000)} s` : `${limitMs} ms`;
      this.stopWorker(
        `Tokenizing took longer than ${seconds} (the model's tokenizer.json has a pre-tokenizer pattern too slow for this text); the inspector worker was restarted.`,
      );
    }, limitMs);
    this.tokenizeTimer.unref();
  }

  private clearTokenizeTimer(): void {
    if (this.tokenizeTimer) clearTimeout(this.tokenizeTimer);
    this.tokenizeTimer = null;
  }

  private onCrash(worker: Worker, reason: string, error?: Error): void {
    if (this.worker !== worker) return; // an intentionally terminated worker
    (this.options.log ?? silentLog).error(`The inspector worker stopped (${reason})`, error);
    this.stopWorker(
      `The inspector worker stopped unexpectedly (${firstLine(reason)}); it restarts on the next inspection.`,
    );
  }

  /** Ends the worker at once (it is stuck in JavaScript or gone); every caller still waiting gets `message`. */
  private stopWorker(message: string): void {
    const handler = this.handler;
    this.terminateWorker(true);
    handler?.failAll(message);
  }

  private armIdleTimer(): void {
    this.clearIdleTimer();
    this.worker?.unref();
    if (this.isDisposed || !this.worker) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if ((this.handler?.pending ?? 0) === 0) this.terminateWorker();
    }, this.options.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /**
   * Lets go of the worker. `hard`: terminate() now (a worker stuck in JavaScript or already gone). Otherwise it is
   * asked to shut down: terminating a thread while onnxruntime runs or builds a session for it aborts the whole
   * process (the extension host with it), so the worker cancels its requests, waits for that native work and
   * exits by itself; terminate() only if it has not after SHUTDOWN_GRACE_MS.
   */
  private terminateWorker(hard = false): void {
    this.clearTokenizeTimer();
    const worker = this.worker;
    this.worker = null;
    this.handler = null;
    if (!worker) return;
    if (hard) {
      void worker.terminate();
      return;
    }
    worker.postMessage({ type: 'shutdown' } satisfies ShutdownMessage);
    worker.unref();
    const grace = setTimeout(() => void worker.terminate(), SHUTDOWN_GRACE_MS);
    grace.unref();
    worker.once('exit', () => clearTimeout(grace));
  }

  private shutdown(): void {
    this.clearIdleTimer();
    const handler = this.handler;
    this.active = null;
    this.terminateWorker();
    handler?.failAll('The inspector worker was stopped.');
  }
}
