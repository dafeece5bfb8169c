// Folding the inspection event stream into a result, written once: the host's record of a run, the CLI,
// the bench and the webview all fold the same way (layers placed by index, the last header, summary, source
// and cost kept, progress ignored). The inverse, a result as its events, is resultEvents.ts beside it.
import type {
  CostSummary,
  InspectionEvent,
  InspectionHeader,
  InspectionResult,
  InspectionSummary,
  LayerAttention,
  SourceInfo,
} from './protocol';

/** What the events so far say; immutable, so a reducer can hold it. */
export interface PartialResult {
  readonly header?: InspectionHeader;
  readonly source?: SourceInfo;
  readonly cost?: CostSummary;
  /** By layer index; a hole for a layer not yet arrived. */
  readonly layers: readonly (LayerAttention | undefined)[];
  readonly summary?: InspectionSummary;
  readonly error?: string;
}

export const emptyResult: PartialResult = { layers: [] };

/** One event folded in. A new header starts the layers afresh (a re-run under the same id). */
export function foldEvent(partial: PartialResult, event: InspectionEvent): PartialResult {
  switch (event.kind) {
    case 'progress':
      return partial;
    case 'header':
      return { ...partial, header: event.header, layers: [] };
    case 'layer': {
      const layers = partial.layers.slice();
      layers[event.layer.layer] = event.layer;
      return { ...partial, layers };
    }
    case 'summary':
      return { ...partial, summary: event.summary };
    case 'source':
      return { ...partial, source: event.source };
    case 'cost':
      return { ...partial, cost: event.cost };
    case 'error':
      return { ...partial, error: event.message };
  }
}

/** The complete result, or null before the header and the summary have both arrived. */
export function finishResult(partial: PartialResult, fallbackSource: SourceInfo): InspectionResult | null {
  const { header, summary } = partial;
  if (!header || !summary) return null;
  const layers = partial.layers.filter((l): l is LayerAttention => l !== undefined);
  return {
    ...header,
    source: partial.source ?? fallbackSource,
    ...(partial.cost ? { cost: partial.cost } : {}),
    layers,
    summary,
  };
}

export function foldEvents(events: Iterable<InspectionEvent>): PartialResult {
  let partial = emptyResult;
  for (const event of events) partial = foldEvent(partial, event);
  return partial;
}

/** A sink that folds as the events come (the CLI, the bench). */
export class ResultCollector {
  private current: PartialResult = emptyResult;

  readonly sink = (event: InspectionEvent): void => {
    this.current = foldEvent(this.current, event);
  };

  get partial(): PartialResult {
    return this.current;
  }

  result(fallbackSource: SourceInfo): InspectionResult | null {
    return finishResult(this.current, fallbackSource);
  }
}
