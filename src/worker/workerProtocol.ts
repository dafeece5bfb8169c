// Messages between the host (InspectorWorker) and the engine worker thread (worker.ts). The worker answers
// with the inspection events themselves (shared/protocol.ts), forwarded unchanged with their transfer lists.
import type { InspectionEvent } from '../shared/protocol';
import type { AttentionRowReply, AttentionRowRequest } from '../shared/attentionRowRequest';
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

export type HostToWorker =
  | { readonly type: 'inspect'; readonly request: InspectRequest }
  | { readonly type: 'cancel'; readonly requestId: number }
  | { readonly type: 'simulate-crash' }
  /** A full collection of the worker's heap where the process runs with --expose-gc, so a test's RSS reading
   * measures what the worker keeps, not garbage waiting for V8's next collection. */
  | { readonly type: 'collect-garbage' }
  /** One exact row of the last inspection, answered with an AttentionRowReply. */
  | { readonly type: 'attention-row'; readonly request: AttentionRowRequest };

/** What the worker posts: the event stream, and the answers to row requests. */
export type WorkerToHost = InspectionEvent | AttentionRowReply;
