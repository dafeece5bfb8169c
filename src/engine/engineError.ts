// An error whose message is one user-facing line (bad input, model problems); anything else is a bug.
export class EngineError extends Error {
  constructor(message: string) {
    super(message.split('\n')[0]);
    this.name = 'EngineError';
  }
}
