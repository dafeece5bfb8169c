// Messages between the host (InspectorWorker) and the engine worker thread (worker.ts).
import type { InspectionSummary, LayerAttention } from '../shared/protocol';
import type { EngineHeader, InspectProgress, InspectRequest } from '../engine/inspectApi';

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

export type WorkerToHost =
  | { readonly type: 'progress'; readonly requestId: number; readonly progress: InspectProgress }
  | { readonly type: 'start'; readonly requestId: number; readonly header: EngineHeader }
  | { readonly type: 'layer'; readonly requestId: number; readonly layer: LayerAttention }
  | { readonly type: 'done'; readonly requestId: number; readonly summary: InspectionSummary }
  | { readonly type: 'error'; readonly requestId: number; readonly message: string }
  | { readonly type: 'cancelled'; readonly requestId: number };

/** The buffers of a layer, moved (not copied) to the host. */
export function layerTransferList(layer: LayerAttention): ArrayBuffer[] {
  const arrays = [layer.heads.weights, layer.heads.rowScale, layer.heads.indices, layer.rollout.weights, layer.rollout.rowScale, layer.rollout.indices, layer.received];
  const buffers = new Set<ArrayBuffer>();
  for (const array of arrays) if (array && array.buffer instanceof ArrayBuffer) buffers.add(array.buffer);
  return [...buffers];
}
