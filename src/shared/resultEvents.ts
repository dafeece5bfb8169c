// A finished result as the event stream that would have produced it (source, header, cost, layers,
// summary): what a bench or a test delivers to the webview in place of a live inspection.
import type { InspectionEvent, InspectionResult } from './protocol';

export function resultEvents(result: InspectionResult): InspectionEvent[] {
  const { layers, summary, source, cost, ...header } = result;
  const requestId = header.requestId;
  return [
    { kind: 'source', requestId, source },
    { kind: 'header', requestId, header },
    ...(cost ? [{ kind: 'cost', requestId, cost } as const] : []),
    ...layers.map((layer) => ({ kind: 'layer', requestId, layer }) as const),
    { kind: 'summary', requestId, summary },
  ];
}
