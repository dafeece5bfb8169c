// An error whose message is one user-facing line (bad input, model problems); anything else is a bug.
import { firstLine } from '../shared/errorText';

export class EngineError extends Error {
  /** `cause`: the error underneath (a network failure, say), for the log's cause chain; the user sees the line. */
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(firstLine(message), options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'EngineError';
  }
}
