// The extension host's side of the tokenizer worker: starts it on first use, sends a document's text and
// resolves with its counts. The host thread never builds a tokenizer or tokenizes; `isReady` says whether a
// tokenizer has answered once, so the status bar can show "counting…" until then. After a document's first
// count only the edit since the last text sent travels (cloning 100 KB per keystroke blocked the host).
import { Worker } from 'node:worker_threads';
import type { CostOptions } from './costSettings';
import type { CostDiagnostic, SectionLens } from './editorModels';
import type { ChunkCount, CountSnapshot } from './incrementalCounter';
import type { TargetPreset, TokenizerId } from './presets';
import { diffTexts } from './textEdit';
import type {
  HostToTokenizerWorker,
  TextChange,
  TokenizerWorkerConfig,
  TokenizerWorkerToHost,
} from './tokenizerWorkerProtocol';

export interface WorkerCount {
  readonly snapshot: CountSnapshot;
  readonly chatOverhead: number;
  readonly diagnostics: readonly CostDiagnostic[];
  /** Empty unless the lenses were asked for. */
  readonly lenses: readonly SectionLens[];
}

interface Pending {
  readonly document: string;
  readonly text: string;
  readonly preset: TargetPreset;
  readonly options: CostOptions;
  readonly lenses: boolean;
  readonly tokenizer: TokenizerId;
  readonly resolve: (count: WorkerCount) => void;
  readonly reject: (error: Error) => void;
}

export class TokenizerWorkerClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly ready = new Set<TokenizerId>();
  /** Per document, the last text posted to the current worker and its request. */
  private readonly sent = new Map<string, { readonly text: string; readonly requestId: number }>();

  constructor(
    private readonly workerScript: string,
    private readonly config: TokenizerWorkerConfig,
  ) {}

  /** Whether `tokenizer` has loaded in the worker (a count came back with it). */
  isReady(tokenizer: TokenizerId): boolean {
    return this.ready.has(tokenizer);
  }

  /** Counts `text`; with `lenses` the reply also has the section CodeLens. */
  count(
    document: string,
    text: string,
    preset: TargetPreset,
    options: CostOptions,
    lenses = false,
  ): Promise<WorkerCount> {
    const requestId = this.nextId++;
    const base = this.worker ? this.sent.get(document) : undefined;
    const change: TextChange = base ? { edit: diffTexts(base.text, text), baseRequestId: base.requestId } : { text };
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, {
        document,
        text,
        preset,
        options,
        lenses,
        tokenizer: preset.tokenizer,
        resolve,
        reject,
      });
      this.send({
        type: 'count',
        requestId,
        document,
        change,
        preset,
        options,
        ...(lenses ? { lenses } : {}),
      });
      this.sent.set(document, { text, requestId });
      // Held while a count is outstanding; an idle worker does not keep the process (the CLI, a test) alive.
      this.worker?.ref();
    });
  }

  forget(document: string): void {
    this.sent.delete(document);
    if (this.worker) this.send({ type: 'forget', document });
  }

  dispose(): void {
    const worker = this.worker;
    this.worker = null;
    this.sent.clear();
    void worker?.terminate();
    this.failAll('the tokenizer worker was stopped');
  }

  private send(message: HostToTokenizerWorker): void {
    this.ensureWorker().postMessage(message);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerScript, { workerData: this.config });
    worker.on('message', (message: TokenizerWorkerToHost) => this.onMessage(message));
    worker.on('error', (error) => this.onExit(worker, error.message));
    worker.on('exit', (code) => this.onExit(worker, `exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private onMessage(message: TokenizerWorkerToHost): void {
    const pending = this.pending.get(message.requestId);
    if (!pending) return;
    if (message.type === 'failed' && message.stale === true) {
      // The worker lost the base text (it should not happen): the same request again, whole.
      this.send({
        type: 'count',
        requestId: message.requestId,
        document: pending.document,
        change: { text: pending.text },
        preset: pending.preset,
        options: pending.options,
        ...(pending.lenses ? { lenses: true } : {}),
      });
      return;
    }
    this.pending.delete(message.requestId);
    if (this.pending.size === 0) this.worker?.unref();
    if (message.type === 'failed') {
      pending.reject(new Error(message.message));
      return;
    }
    this.ready.add(pending.tokenizer);
    const chunks: ChunkCount[] = [];
    const packed = message.chunks;
    for (let i = 0; i < packed.length; i += 4)
      chunks.push({ start: packed[i], end: packed[i + 1], tokens: packed[i + 2], before: packed[i + 3] });
    pending.resolve({
      snapshot: { text: pending.text, total: message.total, chunks, tokenizedChunks: message.tokenizedChunks },
      chatOverhead: message.chatOverhead,
      diagnostics: message.diagnostics,
      lenses: message.lenses,
    });
  }

  private onExit(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    // The next count starts a fresh worker, which holds no text; the tokenizers load again there.
    this.ready.clear();
    this.sent.clear();
    this.failAll(`the tokenizer worker stopped (${reason.split('\n')[0]})`);
  }

  private failAll(reason: string): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const request of pending) request.reject(new Error(reason));
  }
}
