// The inspection every bench section asks for: the embedded model on the CPU, the first `tokens` tokens.
import type { InspectRequest } from '../src/engine/inspectApi';

export function benchRequest(requestId: number, text: string, tokens: number): InspectRequest {
  return { requestId, text, model: '', provider: 'cpu', maxCharacters: 10_000_000, maxTokens: tokens, window: 'start' };
}
