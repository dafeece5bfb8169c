// Exact token counts from the providers' own endpoints, for the targets whose tokenizer is not public:
// Anthropic's POST /v1/messages/count_tokens and Gemini's POST /v1beta/models/{model}:countTokens. Runs only
// when the user asks. The API key goes in the request header to the provider's host and nowhere else: never
// into a message, a log line or a setting (errors are one line, with the key masked if a server echoes it).
import type { CountApi, CountApiProvider } from './presets';

export const COUNT_API_BASE_URLS: Readonly<Record<CountApiProvider, string>> = {
  anthropic: 'https://api.anthropic.com',
  gemini: 'https://generativelanguage.googleapis.com',
};

export const PROVIDER_LABELS: Readonly<Record<CountApiProvider, string>> = { anthropic: 'Anthropic', gemini: 'Gemini' };

/** The SecretStorage key of a provider's API key. */
export function apiKeySecretName(provider: CountApiProvider): string {
  return `promptAttention.apiKey.${provider}`;
}

export const EXACT_COUNT_TIMEOUT_MS = 15_000;

export interface ExactCountRequest {
  readonly api: CountApi;
  readonly text: string;
  readonly apiKey: string;
  /** Tests point this at a local server; the extension always uses COUNT_API_BASE_URLS. */
  readonly baseUrl?: string;
  readonly timeoutMs?: number;
}

/** A one-line reason, safe to show (it never holds the key). */
export class ExactCountError extends Error {
  override readonly name = 'ExactCountError';
}

interface HttpCall {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  readonly read: (json: unknown) => number | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

function call(request: ExactCountRequest): HttpCall {
  const { api, text, apiKey } = request;
  const base = (request.baseUrl ?? COUNT_API_BASE_URLS[api.provider]).replace(/\/+$/, '');
  if (api.provider === 'anthropic') {
    return {
      url: `${base}/v1/messages/count_tokens`,
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'anthropic-version': '2023-06-01' },
      body: { model: api.model, messages: [{ role: 'user', content: text }] },
      read: (json) => (isRecord(json) ? count(json.input_tokens) : undefined),
    };
  }
  return {
    url: `${base}/v1beta/models/${encodeURIComponent(api.model)}:countTokens`,
    headers: { 'content-type': 'application/json', 'x-goog-api-key': apiKey },
    body: { contents: [{ role: 'user', parts: [{ text }] }] },
    read: (json) => (isRecord(json) ? count(json.totalTokens) : undefined),
  };
}

/** The message in Anthropic's {"error": {"message"}} and Google's {"error": {"message"}} error bodies. */
function errorMessage(json: unknown): string | undefined {
  const error = isRecord(json) ? json.error : undefined;
  return isRecord(error) && typeof error.message === 'string' ? error.message : undefined;
}

function oneLine(text: string, apiKey: string): string {
  const masked = apiKey.length > 0 ? text.split(apiKey).join('…') : text;
  const line = masked.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}

/** The provider's token count for `text` as one user message. Rejects with an ExactCountError. */
export async function requestExactCount(request: ExactCountRequest): Promise<number> {
  const { api, apiKey } = request;
  const provider = PROVIDER_LABELS[api.provider];
  if (apiKey === '') throw new ExactCountError(`no ${provider} API key (run "Prompt Attention: Set API Key")`);
  const http = call(request);
  const timeoutMs = request.timeoutMs ?? EXACT_COUNT_TIMEOUT_MS;
  let response: Response;
  try {
    response = await fetch(http.url, {
      method: 'POST',
      headers: http.headers,
      body: JSON.stringify(http.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    if ((error as Error).name === 'TimeoutError')
      throw new ExactCountError(
        `${provider} did not answer within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}`,
      );
    throw new ExactCountError(`cannot reach ${provider} (${cause ?? 'offline?'})`);
  }
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const reason = errorMessage(json);
    const kind =
      response.status === 401 || response.status === 403 || (response.status === 400 && /api key/i.test(reason ?? ''))
        ? 'API key rejected'
        : `HTTP ${response.status}`;
    throw new ExactCountError(oneLine(`${provider}: ${kind}${reason ? `: ${reason}` : ''}`, apiKey));
  }
  const tokens = http.read(json);
  if (tokens === undefined) throw new ExactCountError(`${provider} answered without a token count`);
  return tokens;
}

/**
 * Debounces explicit requests: calls within `delayMs` of each other make one request, for the latest text;
 * every caller in the burst gets its result.
 */
export class ExactCountDebouncer {
  private timer: NodeJS.Timeout | undefined;
  private waiting: { resolve: (tokens: number) => void; reject: (error: Error) => void }[] = [];

  constructor(private readonly delayMs: number) {}

  request(run: () => Promise<number>): Promise<number> {
    clearTimeout(this.timer);
    const result = new Promise<number>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.timer = setTimeout(() => {
      const waiting = this.waiting;
      this.waiting = [];
      run().then(
        (tokens) => waiting.forEach((w) => w.resolve(tokens)),
        (error: Error) => waiting.forEach((w) => w.reject(error)),
      );
    }, this.delayMs);
    return result;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.waiting.forEach((w) => w.reject(new ExactCountError('cancelled')));
    this.waiting = [];
  }
}
