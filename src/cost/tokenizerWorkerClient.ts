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
import { MessageHandler, type Envelope } from '../shared/requestReply';
import {
  COUNT,
  FORGET,
  type CountParams,
  type TextChange,
  type TokenizerWorkerConfig,
} from './tokenizerWorkerProtocol';

export interface WorkerCount {
  readonly snapshot: CountSnapshot;
  readonly chatOverhead: number;
  readonly diagnostics: readonly CostDiagnostic[];
  /** Empty unless the lenses were asked for. */
  readonly lenses: readonly SectionLens[];
}

export class TokenizerWorkerClient {
  private worker: Worker | null = null;
  private handler: MessageHandler | null = null;
  private nextId = 1;
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
  async count(
    document: string,
    text: string,
    preset: TargetPreset,
    options: CostOptions,
    lenses = false,
  ): Promise<WorkerCount> {
    const requestId = this.nextId++;
    const base = this.worker ? this.sent.get(document) : undefined;
    const change: TextChange = base ? { edit: diffTexts(base.text, text), baseRequestId: base.requestId } : { text };
    const params: CountParams = { document, change, preset, options, ...(lenses ? { lenses } : {}) };
    this.sent.set(document, { text, requestId });
    let reply = await this.request(requestId, params);
    // The worker lost the base text (it should not happen): the same request again, whole.
    if ('stale' in reply) reply = await this.request(requestId, { ...params, change: { text } });
    if ('stale' in reply) throw new Error('the tokenizer worker lost the text it was sent');
    this.ready.add(preset.tokenizer);
    const packed = reply.chunks;
    let chunks: ChunkCount[] | undefined;
    return {
      snapshot: {
        text,
        total: reply.total,
        // Unpacked when first read (the panel's section counts): a keystroke does not build ~1,000 objects here.
        get chunks(): readonly ChunkCount[] {
          return (chunks ??= unpackChunks(packed));
        },
        tokenizedChunks: reply.tokenizedChunks,
      },
      chatOverhead: reply.chatOverhead,
      diagnostics: reply.diagnostics,
      lenses: reply.lenses,
    };
  }

  forget(document: string): void {
    this.sent.delete(document);
    if (this.worker) this.forgetInWorker(document);
  }

  dispose(): void {
    const handler = this.handler;
    const worker = this.worker;
    this.worker = null;
    this.handler = null;
    this.sent.clear();
    void worker?.terminate();
    handler?.failAll('the tokenizer worker was stopped');
  }

  /** Tells the worker to drop a document (tests call it alone to make the worker lose a text). */
  private forgetInWorker(document: string): void {
    void this.ensureHandler()
      .request(FORGET, { document })
      .reply.catch(() => undefined); // a worker that stopped has forgotten everything anyway
  }

  private async request(requestId: number, params: CountParams) {
    const handler = this.ensureHandler();
    // Held while a count is outstanding; an idle worker does not keep the process (the CLI, a test) alive.
    this.worker?.ref();
    try {
      return await handler.request(COUNT, { ...params, requestId }).reply;
    } finally {
      if (handler === this.handler && handler.pending === 0) this.worker?.unref();
    }
  }

  private ensureHandler(): MessageHandler {
    if (this.worker && this.handler) return this.handler;
    const worker = new Worker(this.workerScript, { workerData: this.config });
    const handler = new MessageHandler((message: Envelope, transfer?: ArrayBuffer[]) =>
      worker.postMessage(message, transfer ?? []),
    );
    worker.on('message', (message: unknown) => handler.handle(message));
    worker.on('error', (error) => this.onExit(worker, error.message));
    worker.on('exit', (code) => this.onExit(worker, `exit code ${code}`));
    this.worker = worker;
    this.handler = handler;
    return handler;
  }

  private onExit(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    const handler = this.handler;
    this.worker = null;
    this.handler = null;
    // The next count starts a fresh worker, which holds no text; the tokenizers load again there.
    this.ready.clear();
    this.sent.clear();
    handler?.failAll(`the tokenizer worker stopped (${reason.split('\n')[0]})`);
  }
}

function unpackChunks(packed: Float64Array): ChunkCount[] {
  const chunks: ChunkCount[] = [];
  for (let i = 0; i < packed.length; i += 4)
    chunks.push({ start: packed[i], end: packed[i + 1], tokens: packed[i + 2], before: packed[i + 3] });
  return chunks;
}
