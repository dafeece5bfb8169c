// Host-side owner of the engine worker thread. The host never blocks: everything heavy happens in the
// worker. One inspection at a time (a new one cancels the previous), crash → one-line error event to the active
// listener and a fresh worker on the next request, idle → the worker (and its warm sessions) is released.
import { Worker } from 'node:worker_threads';
import type { InspectHandle, InspectRequest } from '../engine/inspectApi';
import type { InspectionEventSink } from '../shared/protocol';
import { Disposable } from '../util/disposable';
import { firstLine } from '../shared/errorText';
import { silentLog, type Log } from '../shared/log';
import type { HostToWorker, WorkerConfig, WorkerToHost } from './workerProtocol';
import type { AttentionRowReply, AttentionRowRequest } from '../shared/attentionRowRequest';
import { isAttentionRowReply, rowUnavailable } from '../shared/attentionRowRequest';

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
  readonly settle: () => void;
}

export class InspectorWorker extends Disposable {
  private worker: Worker | null = null;
  private active: ActiveInspection | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Armed while the worker tokenizes: tokenization is synchronous, so a runaway regex blocks the thread. */
  private tokenizeTimer: NodeJS.Timeout | null = null;
  /** Row requests waiting for the worker's answer, by requestId. */
  private readonly pendingRows = new Map<
    number,
    { readonly request: AttentionRowRequest; readonly resolve: (reply: AttentionRowReply) => void }
  >();

  constructor(private readonly options: InspectorWorkerOptions) {
    super();
    this._register({ dispose: () => this.shutdown() });
  }

  /** Whether a worker thread is running now (false after an idle release or a crash). */
  get isRunning(): boolean {
    return this.worker !== null;
  }

  inspect(request: InspectRequest, listener: InspectionEventSink): InspectHandle {
    if (this.isDisposed) throw new Error('InspectorWorker is disposed');
    this.cancelActive();
    this.clearIdleTimer();
    let settle: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (settle = resolve));
    const active: ActiveInspection = { requestId: request.requestId, listener, settle };
    this.active = active;
    this.send({ type: 'inspect', request });
    this.worker?.ref(); // keep the process alive while an inspection runs, not while idle
    return {
      finished,
      cancel: () => {
        if (this.active === active) this.cancelActive();
      },
    };
  }

  /**
   * One exact row of the last inspection, computed in the worker from the Q and K it kept. Never starts a
   * worker: without one (idle release, crash) the inspection is gone, and the reply says so.
   */
  attentionRow(request: AttentionRowRequest): Promise<AttentionRowReply> {
    const worker = this.worker;
    if (!worker) return Promise.resolve(rowUnavailable(request));
    return new Promise((resolve) => {
      const older = this.pendingRows.get(request.requestId); // a repeated id: the older one is answered now
      older?.resolve(rowUnavailable(older.request));
      this.pendingRows.set(request.requestId, { request, resolve });
      worker.ref(); // an awaited answer keeps the process alive, as a running inspection does
      worker.postMessage({ type: 'attention-row', request } satisfies HostToWorker);
    });
  }

  /** Answers every waiting row request with "gone" (the worker stopped). */
  private dropPendingRows(): void {
    const pending = [...this.pendingRows.values()];
    this.pendingRows.clear();
    for (const p of pending) p.resolve(rowUnavailable(p.request));
  }

  /** Tests only: makes the worker exit abruptly (needs testHooks). */
  simulateCrash(): void {
    this.worker?.postMessage({ type: 'simulate-crash' } satisfies HostToWorker);
  }

  /** Tests only: a full collection of the worker's heap (needs testHooks and a process run with --expose-gc). */
  collectGarbage(): void {
    this.worker?.postMessage({ type: 'collect-garbage' } satisfies HostToWorker);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const workerData: WorkerConfig = {
      modelsDir: this.options.modelsDir,
      cacheDir: this.options.cacheDir,
      ...(this.options.hubEndpoint ? { hubEndpoint: this.options.hubEndpoint } : {}),
      ...(this.options.hubToken ? { hubToken: this.options.hubToken } : {}),
      ...(this.options.testHooks ? { testHooks: true } : {}),
    };
    const worker = new Worker(this.options.workerScript, { workerData });
    worker.on('message', (message: WorkerToHost) => {
      this.watchTokenize(worker, message);
      this.onMessage(message);
    });
    worker.on('error', (error) => this.onCrash(worker, error.message, error));
    worker.on('exit', (code) => this.onCrash(worker, `exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private send(message: HostToWorker): void {
    this.ensureWorker().postMessage(message);
  }

  private cancelActive(): void {
    const active = this.active;
    if (!active) return;
    this.active = null;
    this.worker?.postMessage({ type: 'cancel', requestId: active.requestId } satisfies HostToWorker);
    active.settle();
    this.armIdleTimer();
  }

  private finish(active: ActiveInspection): void {
    if (this.active === active) this.active = null;
    active.settle();
    this.armIdleTimer();
  }

  private onMessage(event: WorkerToHost): void {
    if (isAttentionRowReply(event)) {
      const pending = this.pendingRows.get(event.inReplyTo);
      this.pendingRows.delete(event.inReplyTo);
      if (this.pendingRows.size === 0 && !this.active) this.worker?.unref();
      pending?.resolve(event);
      return;
    }
    const active = this.active;
    if (!active || event.requestId !== active.requestId) return; // a cancelled inspection's late results
    if (event.kind === 'summary' || event.kind === 'error') this.finish(active);
    active.listener(event);
  }

  /** Any message ends the tokenize watch; a tokenize progress event (of any request) starts it. */
  private watchTokenize(worker: Worker, event: WorkerToHost): void {
    if (this.worker !== worker || isAttentionRowReply(event)) return;
    this.clearTokenizeTimer();
    if (event.kind !== 'progress' || event.stage !== 'tokenize') return;
    const limitMs = this.options.tokenizeTimeoutMs ?? TOKENIZE_TIMEOUT_MS;
    this.tokenizeTimer = setTimeout(() => {
      this.tokenizeTimer = null;
      if (this.worker !== worker) return;
      (this.options.log ?? silentLog).error(`Tokenizing ran past ${limitMs} ms; the worker is terminated`);
      this.terminateWorker();
      const active = this.active;
      if (!active) return;
      this.active = null;
      active.settle();
      const seconds = limitMs >= 1000 ? `${Math.round(limitMs / 1000)} s` : `${limitMs} ms`;
      active.listener({
        kind: 'error',
        requestId: active.requestId,
        message: `Tokenizing took longer than ${seconds} (the model's tokenizer.json has a pre-tokenizer pattern too slow for this text); the inspector worker was restarted.`,
      });
    }, limitMs);
    this.tokenizeTimer.unref();
  }

  private clearTokenizeTimer(): void {
    if (this.tokenizeTimer) clearTimeout(this.tokenizeTimer);
    this.tokenizeTimer = null;
  }

  private onCrash(worker: Worker, reason: string, error?: Error): void {
    if (this.worker !== worker) return; // an intentionally terminated worker
    this.worker = null;
    this.dropPendingRows();
    (this.options.log ?? silentLog).error(`The inspector worker stopped (${reason})`, error);
    const active = this.active;
    if (!active) return;
    this.active = null;
    active.settle();
    active.listener({
      kind: 'error',
      requestId: active.requestId,
      message: `The inspector worker stopped unexpectedly (${firstLine(reason)}); it restarts on the next inspection.`,
    });
  }

  private armIdleTimer(): void {
    this.clearIdleTimer();
    this.worker?.unref();
    if (this.isDisposed || !this.worker) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (!this.active) this.terminateWorker();
    }, this.options.idleTimeoutMs);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private terminateWorker(): void {
    this.clearTokenizeTimer();
    const worker = this.worker;
    this.worker = null;
    this.dropPendingRows();
    if (worker) void worker.terminate();
  }

  private shutdown(): void {
    this.clearIdleTimer();
    const active = this.active;
    this.active = null;
    active?.settle();
    this.terminateWorker();
  }
}
