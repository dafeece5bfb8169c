// Rows on demand: the webview asks for one exact attention row (a layer's head, or the mean over its heads,
// for one query token of the inspection on screen); the host passes the request to the worker, which
// computes it from the Q and K it kept after the run (engine/analysis/exactRows.ts), and the answer comes
// back matched by requestId. Self-contained (types, a validator, the reply's transfer list), so it can move
// into a general request/reply mechanism unchanged.

export interface AttentionRowRequest {
  readonly type: 'attention-row';
  /** Matches the reply (the webview's own counter). */
  readonly requestId: number;
  /** The inspection whose row is asked for (its header's requestId): a stale request is refused. */
  readonly inspection: number;
  readonly layer: number;
  /** A head, or null for the mean over the layer's heads. */
  readonly head: number | null;
  readonly query: number;
}

export interface AttentionRowReply {
  readonly kind: 'attention-row';
  readonly inReplyTo: number;
  readonly inspection: number;
  readonly layer: number;
  readonly head: number | null;
  readonly query: number;
  /** The row's weights over keys 0..n−1 (zero after the query); absent when `error` says why not. */
  readonly weights?: Float32Array;
  /** One line: the inspection is gone, or its graph kept no Q and K. */
  readonly error?: string;
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The request, or one line saying what is wrong with it (untrusted input from the webview). */
export function parseAttentionRowRequest(value: Record<string, unknown>): AttentionRowRequest | string {
  const { requestId, inspection, layer, head, query } = value;
  if (!isIndex(requestId)) return 'attention-row: requestId must be a non-negative integer';
  if (!isIndex(inspection)) return 'attention-row: inspection must be a non-negative integer';
  if (!isIndex(layer)) return 'attention-row: layer must be a non-negative integer';
  if (head !== null && !isIndex(head)) return 'attention-row: head must be a non-negative integer or null';
  if (!isIndex(query)) return 'attention-row: query must be a non-negative integer';
  return { type: 'attention-row', requestId, inspection, layer, head, query };
}

export function isAttentionRowReply(value: unknown): value is AttentionRowReply {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'attention-row' &&
    typeof (value as { inReplyTo?: unknown }).inReplyTo === 'number'
  );
}

/** The reply when no worker holds the inspection (released when idle, or restarted). */
export function rowUnavailable(request: AttentionRowRequest): AttentionRowReply {
  const { requestId, inspection, layer, head, query } = request;
  return {
    kind: 'attention-row',
    inReplyTo: requestId,
    inspection,
    layer,
    head,
    query,
    error: 'That inspection is no longer in memory; run it again to see exact rows.',
  };
}

export function rowReplyTransferList(reply: AttentionRowReply): ArrayBuffer[] {
  return reply.weights && reply.weights.buffer instanceof ArrayBuffer ? [reply.weights.buffer] : [];
}
