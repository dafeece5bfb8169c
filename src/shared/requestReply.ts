// One request/reply mechanism for every boundary the extension has (host ↔ engine worker, host ↔ tokenizer
// worker): a typed `Request<Params, Response, Event>` names a method, `MessageHandler` sends it with a fresh
// id, pairs the reply (and the events streamed before it) with the caller by that id, and carries a cancel
// the other way. The same class serves requests on the other side. The pending-reply pairing it is built on
// (`PendingReplies`) is what the webview bridge uses over its own validated message shapes. No Node-only API.

/** A request type: its method name; Params, Response and Event exist for the compiler only. */
export interface Request<Params, Response, Event = never> {
  readonly method: string;
  /** Never set: keeps the three types apart (an interface that does not use them would erase them). */
  readonly types?: { readonly params: Params; readonly response: Response; readonly event: Event };
}

export function request<Params, Response, Event = never>(method: string): Request<Params, Response, Event> {
  return { method };
}

export type ParamsOf<R> = R extends Request<infer P, unknown, unknown> ? P : never;

/** What crosses the boundary. `event`s of a request come before its `reply`. */
export type Envelope =
  | { readonly rpc: 'request'; readonly id: number; readonly method: string; readonly params: unknown }
  | { readonly rpc: 'event'; readonly id: number; readonly event: unknown }
  | { readonly rpc: 'reply'; readonly id: number; readonly ok: true; readonly response: unknown }
  | {
      readonly rpc: 'reply';
      readonly id: number;
      readonly ok: false;
      /** One line for the user; `detail` (a stack) is for the log. */
      readonly message: string;
      readonly detail?: string;
      readonly cancelled?: boolean;
    }
  | { readonly rpc: 'cancel'; readonly id: number };

const RPC_KINDS: ReadonlySet<string> = new Set(['request', 'event', 'reply', 'cancel']);

export function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { rpc?: unknown; id?: unknown };
  return typeof v.rpc === 'string' && RPC_KINDS.has(v.rpc) && typeof v.id === 'number';
}

/** A failed request on the caller's side: the other side's one line, and its stack when it sent one. */
export class RequestFailed extends Error {
  constructor(
    message: string,
    readonly detail?: string,
    readonly cancelled = false,
  ) {
    super(message);
  }
}

/** Callers waiting for replies, by id: open one, settle it (once), or fail them all (the other side died). */
export class PendingReplies<Reply, Sent = undefined> {
  private next = 0;
  private readonly waiting = new Map<
    number,
    { readonly sent: Sent; resolve(reply: Reply): void; reject(error: Error): void }
  >();

  /** A fresh id, the promise of its reply, and what was sent (kept for `settle`'s caller). */
  open(sent: Sent, id = ++this.next): { readonly id: number; readonly reply: Promise<Reply> } {
    if (id > this.next) this.next = id;
    const reply = new Promise<Reply>((resolve, reject) => this.waiting.set(id, { sent, resolve, reject }));
    return { id, reply };
  }

  /** Resolves the request with this id; returns what was sent, or undefined for an unknown or repeated id. */
  settle(id: number, reply: Reply): Sent | undefined {
    const entry = this.waiting.get(id);
    if (!entry) return undefined;
    this.waiting.delete(id);
    entry.resolve(reply);
    return entry.sent;
  }

  fail(id: number, error: Error): boolean {
    const entry = this.waiting.get(id);
    if (!entry) return false;
    this.waiting.delete(id);
    entry.reject(error);
    return true;
  }

  failAll(error: Error): void {
    const ids = [...this.waiting.keys()];
    for (const id of ids) this.fail(id, error);
  }

  has(id: number): boolean {
    return this.waiting.has(id);
  }

  get size(): number {
    return this.waiting.size;
  }
}

export type PostEnvelope = (message: Envelope, transfer?: ArrayBuffer[]) => void;

/** A request in flight on the caller's side. */
export interface Call<Response> {
  readonly id: number;
  readonly reply: Promise<Response>;
  /** Tells the other side to stop; the reply then rejects with a cancelled RequestFailed. */
  cancel(): void;
}

/** What a served request's handler gets besides its params. */
export interface Served<Event> {
  readonly id: number;
  emit(event: Event, transfer?: ArrayBuffer[]): void;
  /** Buffers of the response to move (not copy) with the reply. */
  transferWithReply(buffers: ArrayBuffer[]): void;
  isCancelled(): boolean;
}

type Handler = (params: unknown, served: Served<unknown>) => Promise<unknown>;

/** Both ends of the mechanism: `request` to call the other side, `serve` to answer it, `handle` every message. */
export class MessageHandler {
  private readonly replies = new PendingReplies<unknown>();
  private readonly listeners = new Map<number, (event: unknown) => void>();
  private readonly handlers = new Map<string, Handler>();
  private readonly cancelled = new Set<number>();
  /** Requests being served now; a cancel for any other id is late and ignored. */
  private readonly running = new Set<number>();
  /** The answers being served now, to wait for before the serving side exits. */
  private readonly answering = new Set<Promise<void>>();

  constructor(
    private readonly post: PostEnvelope,
    /** Errors thrown by a handler that are not one-line user errors go here with their stack (default: none). */
    private readonly describeError: (error: unknown) => { message: string; detail?: string } = (error) => ({
      message: error instanceof Error ? error.message.split('\n')[0] : String(error),
      ...(error instanceof Error && error.stack ? { detail: error.stack } : {}),
    }),
  ) {}

  request<P, R, E>(
    type: Request<P, R, E>,
    params: P,
    options: { readonly onEvent?: (event: E) => void; readonly transfer?: ArrayBuffer[] } = {},
  ): Call<R> {
    const { id, reply } = this.replies.open(undefined);
    if (options.onEvent) this.listeners.set(id, options.onEvent as (event: unknown) => void);
    const done = reply.finally(() => this.listeners.delete(id)) as Promise<R>;
    // The caller may never await a cancelled request: its rejection must not go unhandled.
    done.catch(() => undefined);
    this.post({ rpc: 'request', id, method: type.method, params }, options.transfer);
    return {
      id,
      reply: done,
      cancel: () => {
        if (!this.replies.has(id)) return;
        this.post({ rpc: 'cancel', id });
        this.listeners.delete(id);
        this.replies.fail(id, new RequestFailed('cancelled', undefined, true));
      },
    };
  }

  serve<P, R, E>(type: Request<P, R, E>, handler: (params: P, served: Served<E>) => Promise<R>): void {
    this.handlers.set(type.method, handler as Handler);
  }

  /** Routes one incoming message; false when it is not an envelope (the caller handles it). */
  handle(message: unknown): boolean {
    if (!isEnvelope(message)) return false;
    switch (message.rpc) {
      case 'event':
        this.listeners.get(message.id)?.(message.event);
        return true;
      case 'reply':
        if (message.ok) this.replies.settle(message.id, message.response);
        else this.replies.fail(message.id, new RequestFailed(message.message, message.detail, message.cancelled));
        return true;
      case 'cancel':
        if (this.running.has(message.id)) this.cancelled.add(message.id);
        return true;
      case 'request': {
        const answer = this.answer(message.id, message.method, message.params);
        this.answering.add(answer);
        void answer.finally(() => this.answering.delete(answer));
        return true;
      }
    }
  }

  /** Whether the other side has cancelled request `id` (for handlers that check between steps). */
  isCancelled(id: number): boolean {
    return this.cancelled.has(id);
  }

  /** The other side is gone: every caller waiting gets this error. */
  failAll(message: string): void {
    this.listeners.clear();
    this.replies.failAll(new RequestFailed(message));
  }

  get pending(): number {
    return this.replies.size;
  }

  /** Cancels every request being served and settles once their handlers have returned (before exiting: a thread
   * ended while native work it started is still running aborts the whole process). */
  async drain(): Promise<void> {
    for (const id of this.running) this.cancelled.add(id);
    while (this.answering.size > 0) await Promise.allSettled([...this.answering]);
  }

  private async answer(id: number, method: string, params: unknown): Promise<void> {
    const handler = this.handlers.get(method);
    this.running.add(id);
    let replyTransfer: ArrayBuffer[] | undefined;
    try {
      if (!handler) throw new Error(`no handler for ${method}`);
      const response = await handler(params, {
        id,
        emit: (event, transfer) => {
          if (!this.cancelled.has(id)) this.post({ rpc: 'event', id, event }, transfer);
        },
        transferWithReply: (buffers) => (replyTransfer = buffers),
        isCancelled: () => this.cancelled.has(id),
      });
      if (!this.cancelled.has(id)) this.post({ rpc: 'reply', id, ok: true, response }, replyTransfer);
    } catch (error) {
      if (this.cancelled.has(id)) return;
      this.post({ rpc: 'reply', id, ok: false, ...this.describeError(error) });
    } finally {
      this.running.delete(id);
      this.cancelled.delete(id);
    }
  }
}
