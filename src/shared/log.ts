// The log every layer writes to: the extension backs it with a LogOutputChannel ("Prompt Attention"), the CLI
// with stderr under --verbose, tests with a list. An expected failure is one user line plus a log entry
// with the stack; nothing is dropped silently. No `vscode` import.
import { stackOf } from './errorText';

export interface Log {
  info(message: string): void;
  warn(message: string): void;
  /** `error`, when given, adds its stack to the entry. */
  error(message: string, error?: unknown): void;
}

/** Where nobody listens (a library call without a log). */
export const silentLog: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The entry's text: the message, then the error's stack on the lines below. */
export function withStack(message: string, error: unknown): string {
  return error === undefined ? message : `${message}\n${stackOf(error)}`;
}

/** A log that writes lines to a stream (the CLI's stderr under --verbose). */
export function streamLog(stream: { write(text: string): unknown }, prefix: string): Log {
  const write = (level: string, text: string): void => void stream.write(`${prefix} [${level}] ${text}\n`);
  return {
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m, e) => write('error', withStack(m, e)),
  };
}
