// Rollout rows on demand: where an inspection's graph did not compute the rollout (long inputs), the webview asks
// for the rollout up to one layer of the rows on screen; the host passes the request to the worker, which computes
// them in the background from the Q and K it kept (engine/analysis/rolloutRows.ts), streams its progress in layers
// and answers with the rows, matched by requestId. A newer request from the same panel supersedes an unfinished
// one (the host cancels it; nothing more comes for it). Self-contained, like attentionRowRequest.ts.

export interface RolloutRowsRequest {
  readonly type: 'rollout-rows';
  /** Matches the progress and the reply (the webview's own counter). */
  readonly requestId: number;
  /** The inspection whose rows are asked for (its header's requestId): a stale request is refused. */
  readonly inspection: number;
  /** Rollout up to this layer (through every layer: the last). */
  readonly layer: number;
  /** The query tokens, distinct. */
  readonly queries: readonly number[];
}

/** Worker → webview while the rows are computed: layers multiplied in so far, of `of`. */
export interface RolloutRowsProgress {
  readonly kind: 'rollout-progress';
  readonly inReplyTo: number;
  readonly inspection: number;
  readonly layer: number;
  readonly done: number;
  readonly of: number;
}

export interface RolloutRowsReply {
  readonly kind: 'rollout-rows';
  readonly inReplyTo: number;
  readonly inspection: number;
  readonly layer: number;
  readonly queries: readonly number[];
  /** Per query, its rollout row over keys 0..n−1; absent when `error` says why not. */
  readonly rows?: readonly Float32Array[];
  /** One line: the inspection is gone, or its graph kept no Q and K. */
  readonly error?: string;
}

/** Rows asked at once at most (a screen of tokens and the focused one). */
export const MAX_ROLLOUT_QUERIES = 1024;

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** The request, or one line saying what is wrong with it (untrusted input from the webview). */
export function parseRolloutRowsRequest(value: Readonly<Record<string, unknown>>): RolloutRowsRequest | string {
  const { requestId, inspection, layer, queries } = value;
  if (!isIndex(requestId)) return 'rollout-rows: requestId must be a non-negative integer';
  if (!isIndex(inspection)) return 'rollout-rows: inspection must be a non-negative integer';
  if (!isIndex(layer)) return 'rollout-rows: layer must be a non-negative integer';
  if (!Array.isArray(queries) || queries.length > MAX_ROLLOUT_QUERIES || !queries.every(isIndex))
    return `rollout-rows: queries must be at most ${MAX_ROLLOUT_QUERIES} non-negative integers`;
  if (new Set(queries).size !== queries.length) return 'rollout-rows: queries must be distinct';
  return { type: 'rollout-rows', requestId, inspection, layer, queries: [...(queries as number[])] };
}

export function isRolloutRowsReply(value: unknown): value is RolloutRowsReply {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { kind?: unknown }).kind === 'rollout-rows' &&
    typeof (value as { inReplyTo?: unknown }).inReplyTo === 'number'
  );
}

/** The reply when no worker holds the inspection (released when idle, or restarted). */
export function rolloutUnavailable(request: RolloutRowsRequest): RolloutRowsReply {
  const { requestId, inspection, layer, queries } = request;
  return {
    kind: 'rollout-rows',
    inReplyTo: requestId,
    inspection,
    layer,
    queries,
    error: 'That inspection is no longer in memory; run it again to see its rollout.',
  };
}

export function rolloutReplyTransferList(reply: RolloutRowsReply): ArrayBuffer[] {
  return (reply.rows ?? []).flatMap((r) => (r.buffer instanceof ArrayBuffer ? [r.buffer] : []));
}
