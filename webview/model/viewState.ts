// The inspector view's one state machine: the inspection (inspectionState's reduce), the control values, the
// hovered and the pinned token, the hover's trip to the editor (a trailing debounce) and the prompt's section
// layout. Pure: reduceView(state, event) returns the new state and the effects the views carry out, in order;
// the app switches over every effect kind and ends in assertNever, as this reducer does over the events.
import { assertNever, type InspectionResult } from '../../src/shared/protocol';
import type { AttentionMode, HeadChoice, LayerChoice } from './aggregate';
import type { Direction } from './focus';
import {
  initialState,
  reduce,
  stateFromResult,
  type Change,
  type InspectionState,
  type StateInput,
} from './inspectionState';
import { sectionLayout, type SectionLayout } from './sectionFigures';

export interface ControlValues {
  readonly layer: LayerChoice;
  readonly head: HeadChoice;
  readonly mode: AttentionMode;
  readonly direction: Direction;
  readonly hideSink: boolean;
  readonly threshold: number;
}

export const DEFAULT_CONTROLS: ControlValues = {
  layer: 'all',
  head: 'mean',
  mode: 'attention',
  direction: 'to',
  hideSink: false,
  threshold: 0,
};

/** How long the pointer rests on a token before the editor shows its attended spans. */
export const HOVER_TO_EDITOR_MS = 120;

export interface ViewState {
  readonly inspection: InspectionState;
  readonly controls: ControlValues;
  /** The token under the pointer. */
  readonly hover: number | null;
  /** The token focused by a click, the keyboard, a driver, a section or the editor cursor; wins over the hover. */
  readonly pinned: number | null;
  /** Whether an editor follows the focus (the VS Code panel; not the HTML report). */
  readonly editor: boolean;
  /** A hover reaches the editor once the pointer has rested HOVER_TO_EDITOR_MS ('waiting' until then). */
  readonly hoverToEditor: 'idle' | 'waiting';
  /** The prompt's sections and the tokens in each, split once per inspection. */
  readonly sections: SectionLayout | null;
}

export type ViewEvent =
  /** An event of the inspection, or the stale notice, from the host. */
  | { readonly kind: 'inspection'; readonly input: StateInput }
  /** A finished result (the HTML report). */
  | { readonly kind: 'result'; readonly result: InspectionResult }
  | { readonly kind: 'hover'; readonly index: number | null }
  /** A click on a token: pins it, or unpins it when it is the pinned one. */
  | { readonly kind: 'toggle-pin'; readonly index: number | null }
  /** The arrow keys, a driver or a section: pins that token. */
  | { readonly kind: 'pin'; readonly index: number | null }
  /** The editor cursor moved onto a token (null: off the inspected text); the editor is not scrolled back. */
  | { readonly kind: 'focus-token'; readonly index: number | null }
  | { readonly kind: 'escape' }
  /** A click on a matrix cell: pins its query (direction "to") or its key (direction "by"). */
  | { readonly kind: 'pick-cell'; readonly query: number; readonly key: number }
  | { readonly kind: 'controls'; readonly change: Partial<ControlValues> }
  /** The pointer rested HOVER_TO_EDITOR_MS after the last hover. */
  | { readonly kind: 'hover-rested' };

export type ViewEffect =
  /** Draw what the inspection's change touched (a 'reset' also draws the controls for the new shape). */
  | { readonly kind: 'inspection'; readonly change: Change }
  /** Draw the focus: the token shading, the matrix cross-hair, the tooltip and the focus line. */
  | { readonly kind: 'draw-focus'; readonly soon: boolean }
  | { readonly kind: 'draw-controls' }
  /** Rebuild the matrix for the controls (on the next frame; a no-op when nothing it reads changed). */
  | { readonly kind: 'rebuild-matrix' }
  | { readonly kind: 'scroll-to'; readonly index: number }
  /** Start (or restart) the HOVER_TO_EDITOR_MS timer that sends 'hover-rested'. */
  | { readonly kind: 'wait-for-rest' }
  /** Tell the editor what the focus attends to; `reveal` scrolls it there. */
  | { readonly kind: 'tell-editor'; readonly reveal: boolean };

export interface ViewTransition {
  readonly state: ViewState;
  readonly effects: readonly ViewEffect[];
}

export function initialViewState(editor: boolean): ViewState {
  return {
    inspection: initialState,
    controls: DEFAULT_CONTROLS,
    hover: null,
    pinned: null,
    editor,
    hoverToEditor: 'idle',
    sections: null,
  };
}

/** The state after a new inspection starts: no focus, the controls kept where the model's shape allows. */
function afterReset(state: ViewState, inspection: InspectionState): ViewState {
  const h = inspection.header;
  let controls = state.controls;
  if (h && controls.layer !== 'all' && controls.layer >= h.model.layers) controls = { ...controls, layer: 'all' };
  if (h && typeof controls.head === 'number' && controls.head >= h.model.heads)
    controls = { ...controls, head: 'mean' };
  return {
    ...state,
    inspection,
    controls,
    hover: null,
    pinned: null,
    sections: h ? sectionLayout(h.text, h.tokens) : null,
  };
}

function pin(state: ViewState, index: number | null, reveal: boolean): ViewTransition {
  const effects: ViewEffect[] = [{ kind: 'draw-focus', soon: false }];
  if (index !== null) effects.push({ kind: 'scroll-to', index });
  if (state.editor) effects.push({ kind: 'tell-editor', reveal: reveal && (index ?? state.hover) !== null });
  return { state: { ...state, pinned: index, hoverToEditor: 'idle' }, effects };
}

export function reduceView(state: ViewState, event: ViewEvent): ViewTransition {
  switch (event.kind) {
    case 'inspection': {
      const t = reduce(state.inspection, event.input);
      const next = t.change === 'reset' ? afterReset(state, t.state) : { ...state, inspection: t.state };
      // A retained result shown again after a failed run is drawn whole: reset, then its summary.
      const effects: ViewEffect[] = [{ kind: 'inspection', change: t.change }];
      if (t.change === 'reset' && t.state.summary) effects.push({ kind: 'inspection', change: 'summary' });
      return { state: next, effects };
    }
    case 'result':
      return {
        state: afterReset(state, stateFromResult(event.result)),
        effects: [
          { kind: 'inspection', change: 'reset' },
          { kind: 'inspection', change: 'summary' },
        ],
      };
    case 'hover': {
      const hovered = { ...state, hover: event.index };
      if (state.pinned !== null) return { state: hovered, effects: [] };
      if (!state.editor) return { state: hovered, effects: [{ kind: 'draw-focus', soon: true }] };
      return {
        state: { ...hovered, hoverToEditor: 'waiting' },
        effects: [{ kind: 'draw-focus', soon: true }, { kind: 'wait-for-rest' }],
      };
    }
    case 'hover-rested':
      if (state.hoverToEditor !== 'waiting') return { state, effects: [] };
      return {
        state: { ...state, hoverToEditor: 'idle' },
        effects: [
          { kind: 'draw-focus', soon: false },
          { kind: 'tell-editor', reveal: false },
        ],
      };
    case 'toggle-pin':
      return pin(state, event.index === state.pinned ? null : event.index, true);
    case 'pin':
      return pin(state, event.index, true);
    case 'pick-cell':
      return pin(state, state.controls.direction === 'to' ? event.query : event.key, true);
    case 'escape':
      return state.pinned === null ? { state, effects: [] } : pin(state, null, true);
    case 'focus-token': {
      const n = state.inspection.header?.tokens.length ?? 0;
      return event.index === null || event.index < n ? pin(state, event.index, false) : { state, effects: [] };
    }
    case 'controls': {
      const effects: ViewEffect[] = [{ kind: 'draw-controls' }];
      if (event.change.direction !== undefined || event.change.threshold !== undefined)
        effects.push({ kind: 'draw-focus', soon: true });
      effects.push({ kind: 'rebuild-matrix' });
      return { state: { ...state, controls: { ...state.controls, ...event.change } }, effects };
    }
    default:
      return assertNever(event);
  }
}
