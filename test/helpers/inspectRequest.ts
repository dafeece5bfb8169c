// The inspection request the worker tests send: on the CPU, with the extension's default limits (100,000
// characters, no token cap, the window at the start), so each test names only what it varies.
import type { InspectRequest } from '../../src/engine/inspectApi';

export function cpuInspectRequest(
  requestId: number,
  model: string,
  text: string,
  extra: Partial<InspectRequest> = {},
): InspectRequest {
  return {
    requestId,
    text,
    model,
    provider: 'cpu',
    maxCharacters: 100_000,
    maxTokens: 0,
    window: 'start',
    ...extra,
  };
}
