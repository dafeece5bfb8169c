// Messages between the host (InspectorWorker) and the engine worker thread (worker.ts). The worker answers
// with the inspection events themselves (shared/protocol.ts), forwarded unchanged with their transfer lists.
import type { InspectionEvent } from '../shared/protocol';
import type { InspectRequest } from '../engine/inspectApi';

/** Passed as workerData when the worker starts. */
export interface WorkerConfig {
  readonly modelsDir: string;
  readonly cacheDir: string;
  readonly hubEndpoint?: string;
  /** Tests only: honour 'simulate-crash'. */
  readonly testHooks?: boolean;
}

export type HostToWorker =
  | { readonly type: 'inspect'; readonly request: InspectRequest }
  | { readonly type: 'cancel'; readonly requestId: number }
  | { readonly type: 'simulate-crash' };

/** What the worker posts: the event stream, nothing else. */
export type WorkerToHost = InspectionEvent;
