// The requests between the host (InspectorWorker) and the engine worker thread (worker.ts), carried by the
// shared request/reply mechanism (shared/requestReply.ts). An inspection streams the inspection events
// themselves (shared/protocol.ts, forwarded unchanged with their transfer lists); attribution and the section
// diff stream numbered progress and reply with their report. Test hooks travel as plain messages.
import type { InspectionEvent } from '../shared/protocol';
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
import type { RolloutRowsProgress, RolloutRowsReply, RolloutRowsRequest } from '../shared/rolloutRowsRequest';
import { request } from '../shared/requestReply';
import type { InspectRequest } from '../engine/inspectApi';

/** Passed as workerData when the worker starts. */
export interface WorkerConfig {
  readonly modelsDir: string;
  readonly cacheDir: string;
  readonly hubEndpoint?: string;
  /** The Hub token from the extension's SecretStorage (never logged). */
  readonly hubToken?: string;
  /** Tests only: honour 'simulate-crash' and 'collect-garbage'. */
  readonly testHooks?: boolean;
}

/** One inspection: its events (the last is a summary or an error), then an empty reply. */
export const INSPECT = request<InspectRequest, null, InspectionEvent>('inspect');
export const ATTRIBUTE = request<AttributeParams, AttributeJson, ExplainEvent>('attribute');
/** null: the two texts are identical. */
export const SECTION_DIFF = request<DiffParams, DiffJson | null, ExplainEvent>('section-diff');

/**
 * The model writes an answer after the inspected tokens, streamed token by token with their attention.
 * Stopping is a cancel between tokens: the caller keeps the tokens it was streamed.
 */
export const GENERATE = request<GenerateParams, GenerateReply, AnswerTokenEvent | ExplainEvent>('generate');

/** One exact attention row of the last inspection, computed from the Q and K the worker kept after its run. */
export const ATTENTION_ROW = request<AttentionRowRequest, AttentionRowReply>('attention-row');

/** Rollout rows of the last inspection, computed in the background from its kept Q and K, progress per layer. A
 * newer one supersedes it (the host cancels it; the worker also stops it when a newer one or a new run starts). */
export const ROLLOUT_ROWS = request<RolloutRowsRequest, RolloutRowsReply, RolloutRowsProgress>('rollout-rows');

/** Host → worker: finish what runs natively, then exit (InspectorWorker ends a worker this way, not with
 * terminate(): ending a thread while onnxruntime works for it aborts the whole process). */
export interface ShutdownMessage {
  readonly type: 'shutdown';
}

export type TestHook =
  | { readonly type: 'simulate-crash' }
  /** A full collection of the worker's heap where the process runs with --expose-gc, so a test's RSS reading
   * measures what the worker keeps, not garbage waiting for V8's next collection. */
  | { readonly type: 'collect-garbage' };
