// The panel's state machine over host messages: waiting → running (start, layers stream in) → done | error,
// with a stale flag. Messages for an older request are ignored. Pure: returns a new state and what changed.
import type {
  HostToWebviewMessage,
  InspectionHeader,
  InspectionResult,
  InspectionSummary,
  LayerAttention,
} from '../../src/shared/protocol';

export type Phase = 'waiting' | 'running' | 'done' | 'error';

export interface InspectionState {
  readonly phase: Phase;
  readonly requestId: number;
  readonly header?: InspectionHeader;
  /** Indexed by layer number; holes until a layer arrives. */
  readonly layers: readonly (LayerAttention | undefined)[];
  readonly summary?: InspectionSummary;
  readonly progress?: { readonly stage: string; readonly fraction?: number };
  readonly error?: string;
  readonly stale: boolean;
}

export type Change = 'none' | 'reset' | 'layer' | 'summary' | 'progress' | 'error' | 'stale';

export interface Transition {
  readonly state: InspectionState;
  readonly change: Change;
}

export const initialState: InspectionState = { phase: 'waiting', requestId: -1, layers: [], stale: false };

/** A complete result (the HTML report) as the state after `done`. */
export function stateFromResult(result: InspectionResult): InspectionState {
  const { layers, summary, ...header } = result;
  const byIndex: (LayerAttention | undefined)[] = [];
  for (const l of layers) byIndex[l.layer] = l;
  return { phase: 'done', requestId: header.requestId, header, layers: byIndex, summary, stale: false };
}

export function reduce(state: InspectionState, msg: HostToWebviewMessage): Transition {
  switch (msg.type) {
    case 'progress':
      // Progress may precede the header of a new request (model loading).
      if (msg.requestId < state.requestId) return { state, change: 'none' };
      if (msg.requestId > state.requestId) {
        return {
          state: { ...initialState, phase: 'running', requestId: msg.requestId, progress: { stage: msg.stage, fraction: msg.fraction } },
          change: 'reset',
        };
      }
      if (state.phase === 'done' || state.phase === 'error') return { state, change: 'none' };
      return { state: { ...state, progress: { stage: msg.stage, fraction: msg.fraction } }, change: 'progress' };
    case 'inspection-start':
      if (msg.header.requestId < state.requestId) return { state, change: 'none' };
      return {
        state: { phase: 'running', requestId: msg.header.requestId, header: msg.header, layers: [], stale: false, progress: state.requestId === msg.header.requestId ? state.progress : undefined },
        change: 'reset',
      };
    case 'inspection-layer': {
      if (msg.requestId !== state.requestId || state.phase !== 'running' || !state.header) return { state, change: 'none' };
      const layers = state.layers.slice();
      layers[msg.layer.layer] = msg.layer;
      return { state: { ...state, layers }, change: 'layer' };
    }
    case 'inspection-done':
      if (msg.requestId !== state.requestId || state.phase !== 'running') return { state, change: 'none' };
      return { state: { ...state, phase: 'done', summary: msg.summary, progress: undefined }, change: 'summary' };
    case 'inspection-error':
      if (msg.requestId < state.requestId) return { state, change: 'none' };
      return { state: { ...state, requestId: msg.requestId, phase: 'error', error: msg.message, progress: undefined }, change: 'error' };
    case 'stale':
      if (state.stale === msg.stale) return { state, change: 'none' };
      return { state: { ...state, stale: msg.stale }, change: 'stale' };
    default:
      return { state, change: 'none' };
  }
}

/** The full result once done (for exports), else null. */
export function resultOf(state: InspectionState): InspectionResult | null {
  if (state.phase !== 'done' || !state.header || !state.summary) return null;
  const layers = state.layers.filter((l): l is LayerAttention => l !== undefined);
  return { ...state.header, layers, summary: state.summary };
}
