// An error whose message is one user-facing line (bad input, model problems); anything else is a bug.
import { firstLine } from '../shared/errorText';

export class EngineError extends Error {
  constructor(message: string) {
    super(firstLine(message));
    this.name = 'EngineError';
  }
}
