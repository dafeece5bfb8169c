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

interface CauseFields {
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly syscall?: unknown;
  readonly hostname?: unknown;
  readonly host?: unknown;
  readonly address?: unknown;
  readonly port?: unknown;
  readonly cause?: unknown;
}

/** Codes of a connection that never got an HTTP answer: DNS, refused, reset, timed out, TLS. */
const NETWORK_CODE =
  /^(?:ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|UND_ERR_\w+|CERT_\w+|UNABLE_TO_\w+|SELF_SIGNED_\w+|DEPTH_ZERO_\w+|ERR_TLS_\w+)$/;

/** The errors under `error` through `.cause`, outermost first, `error` itself included (at most 8). */
function chain(error: unknown): unknown[] {
  const found: unknown[] = [];
  for (let e: unknown = error; e !== undefined && e !== null && found.length < 8;) {
    found.push(e);
    e = typeof e === 'object' ? (e as CauseFields).cause : undefined;
  }
  return found;
}

/** "code ECONNREFUSED, host huggingface.co:443" for the fields an error has. */
function fieldsOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const e = error as CauseFields;
  const host = e.hostname ?? e.host ?? e.address;
  const parts = [
    e.code !== undefined ? `code ${String(e.code)}` : '',
    e.syscall !== undefined ? `syscall ${String(e.syscall)}` : '',
    host !== undefined ? `host ${String(host)}${e.port !== undefined ? `:${String(e.port)}` : ''}` : '',
  ].filter(Boolean);
  return parts.join(', ');
}

/** The innermost error code of the cause chain (e.g. ECONNREFUSED under "fetch failed"), if any. */
export function rootCode(error: unknown): string | undefined {
  let code: string | undefined;
  for (const e of chain(error)) {
    const value = typeof e === 'object' && e !== null ? (e as CauseFields).code : undefined;
    if (typeof value === 'string') code = value;
  }
  return code;
}

/**
 * One line for an error that may hide its reason in `.cause` (Node's fetch says only "fetch failed"): the
 * message with the root cause's code and host, e.g. "fetch failed (ECONNREFUSED 127.0.0.1:9)".
 */
export function lineWithCause(error: unknown): string {
  const line = firstLine(error);
  const causes = chain(error).slice(1);
  if (causes.length === 0) return line;
  const root = causes[causes.length - 1] as CauseFields;
  const code = rootCode(error);
  const host = root.hostname ?? root.host ?? root.address;
  const where = host !== undefined ? `${String(host)}${root.port !== undefined ? `:${String(root.port)}` : ''}` : '';
  const detail = [code, where].filter(Boolean).join(' ') || firstLine(root);
  return detail && !line.includes(detail) ? `${line} (${detail})` : line;
}

/** A hint for errors that never reached the server: the network, a proxy or the Hub endpoint. */
export function networkHint(error: unknown): string | undefined {
  const code = rootCode(error);
  if (!code || !NETWORK_CODE.test(code)) return undefined;
  return `The connection failed before any HTTP answer (${code}). Check the network; behind a proxy, set HTTPS_PROXY (and NO_PROXY) for the environment VS Code starts from, or point promptAttention.hubEndpoint at a mirror you can reach.`;
}

/** For the log: the stack, then each cause with its code, syscall and host, then the network hint. */
export function describeError(error: unknown): string {
  const lines = [stackOf(error)];
  const own = fieldsOf(error);
  if (own) lines.push(`  (${own})`);
  for (const cause of chain(error).slice(1)) {
    const fields = fieldsOf(cause);
    const name = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    lines.push(`Caused by ${name}${fields ? ` (${fields})` : ''}`);
  }
  const hint = networkHint(error);
  if (hint) lines.push(hint);
  return lines.join('\n');
}
