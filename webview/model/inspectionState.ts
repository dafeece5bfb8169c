// The panel's state machine over the inspection events: waiting → running (header, layers stream in) →
// done | error, with a stale flag. Any event of a newer request starts it afresh; events of an older one are
// ignored. Pure: returns a new state and what changed.
import {
  assertNever,
  type CostSummary,
  type InspectionEvent,
  type InspectionHeader,
  type InspectionResult,
  type InspectionSummary,
  type LayerAttention,
  type PanelNotice,
  type ProgressEvent,
  type SourceInfo,
} from '../../src/shared/protocol';

export type Phase = 'waiting' | 'running' | 'done' | 'error';

export interface InspectionState {
  readonly phase: Phase;
  readonly requestId: number;
  readonly header?: InspectionHeader;
  readonly source?: SourceInfo;
  readonly cost?: CostSummary;
  /** Indexed by layer number; holes until a layer arrives. */
  readonly layers: readonly (LayerAttention | undefined)[];
  readonly summary?: InspectionSummary;
  readonly progress?: ProgressEvent;
  readonly error?: string;
  readonly stale: boolean;
  /** The last finished result while a newer run has not finished: shown again, stale, if that run fails. */
  readonly retained?: InspectionState;
  /** True when the result shown is the retained one of an earlier request, after a failed run. */
  readonly previous?: boolean;
}

export type Change = 'none' | 'reset' | 'layer' | 'summary' | 'progress' | 'error' | 'stale' | 'source' | 'cost';

export interface Transition {
  readonly state: InspectionState;
  readonly change: Change;
}

/** What the reducer consumes: the events, and the stale notice. */
export type StateInput = InspectionEvent | Extract<PanelNotice, { kind: 'stale' }>;

export const initialState: InspectionState = { phase: 'waiting', requestId: -1, layers: [], stale: false };

/** A complete result (the HTML report) as the state after its summary. */
export function stateFromResult(result: InspectionResult): InspectionState {
  const { layers, summary, source, cost, ...header } = result;
  const byIndex: (LayerAttention | undefined)[] = [];
  for (const l of layers) byIndex[l.layer] = l;
  return {
    phase: 'done',
    requestId: header.requestId,
    header,
    source,
    ...(cost ? { cost } : {}),
    layers: byIndex,
    summary,
    stale: false,
  };
}

const unchanged = (state: InspectionState): Transition => ({ state, change: 'none' });

export function reduce(state: InspectionState, input: StateInput): Transition {
  if (input.kind === 'stale')
    return state.stale === input.stale
      ? unchanged(state)
      : { state: { ...state, stale: input.stale }, change: 'stale' };
  if (input.requestId < state.requestId) return unchanged(state);
  // A newer request starts from nothing: the host's first event of a run may be any of source, progress, cost, header.
  // The last finished result is retained, to be shown again (stale) if the new run fails.
  const fresh = input.requestId > state.requestId;
  const retained = state.phase === 'done' && state.header && state.summary ? finished(state) : state.retained;
  const base: InspectionState = fresh
    ? { ...initialState, phase: 'running', requestId: input.requestId, ...(retained ? { retained } : {}) }
    : state;
  const over = base.phase === 'done' || base.phase === 'error';
  const t = apply(base, input, over);
  return fresh && t.change !== 'none'
    ? { state: t.state, change: 'reset' }
    : fresh
      ? { state: base, change: 'reset' }
      : t;
}

function apply(state: InspectionState, event: InspectionEvent, over: boolean): Transition {
  switch (event.kind) {
    case 'progress':
      return over ? unchanged(state) : { state: { ...state, progress: event }, change: 'progress' };
    case 'source':
      return { state: { ...state, source: event.source }, change: 'source' };
    case 'cost':
      return { state: { ...state, cost: event.cost }, change: 'cost' };
    case 'header':
      if (over) return unchanged(state);
      return { state: { ...state, phase: 'running', header: event.header, layers: [] }, change: 'reset' };
    case 'layer': {
      if (state.phase !== 'running' || !state.header) return unchanged(state);
      const layers = state.layers.slice();
      layers[event.layer.layer] = event.layer;
      return { state: { ...state, layers }, change: 'layer' };
    }
    case 'summary': {
      if (state.phase !== 'running') return unchanged(state);
      const { retained: _dropped, ...rest } = state;
      return { state: { ...rest, phase: 'done', summary: event.summary, progress: undefined }, change: 'summary' };
    }
    case 'error':
      if (state.retained && !over)
        return {
          state: {
            ...state.retained,
            phase: 'error',
            requestId: state.requestId,
            error: event.message,
            stale: true,
            previous: true,
            retained: state.retained,
          },
          change: 'reset',
        };
      return { state: { ...state, phase: 'error', error: event.message, progress: undefined }, change: 'error' };
    default:
      return assertNever(event);
  }
}

/** A finished state as it is retained: without what belongs to a run in progress. */
function finished(state: InspectionState): InspectionState {
  const { retained: _r, previous: _p, progress: _g, error: _e, ...rest } = state;
  return { ...rest, phase: 'done' };
}

/** The full result once done (for exports), else null. */
export function resultOf(state: InspectionState): InspectionResult | null {
  if (state.phase !== 'done' || !state.header || !state.summary) return null;
  const layers = state.layers.filter((l): l is LayerAttention => l !== undefined);
  return {
    ...state.header,
    source: state.source ?? { label: '', offset: 0 },
    ...(state.cost ? { cost: state.cost } : {}),
    layers,
    summary: state.summary,
  };
}
