// The one place that turns an error into the single line a user sees (the stack goes to the log instead).
// No `vscode` import: used by the host, the worker, the CLI and the engine's callers.

/** The first line of an error's message (or of any thrown value), trimmed. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim();
}

/** The stack of an error, for a log entry; the message alone for anything else. */
export function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
