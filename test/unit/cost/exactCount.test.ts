// The exact-count path against a local HTTP server on 127.0.0.1 that answers in the shapes Anthropic
// (messages/count_tokens) and Google (models.countTokens) document. The real services cannot be reached from
// the test machines, so these tests check the requests we send and how we read every kind of answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExactCountDebouncer, ExactCountError, requestExactCount } from '../../../src/cost/exactCount';

const GOOD_KEY = 'sk-test-good-0123456789';
const BAD_KEY = 'sk-test-bad-9876543210';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
}

async function startServer(
  handle: (seen: Seen, response: ServerResponse) => void,
): Promise<{ server: Server; baseUrl: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let raw = '';
    request.on('data', (part: Buffer) => (raw += part.toString()));
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: JSON.parse(raw || 'null') as unknown,
      };
      seen.push(entry);
      handle(entry, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Anthropic's documented answers: {"input_tokens": n}, or {"type": "error", "error": {...}} with 401. */
function anthropic(seen: Seen, response: ServerResponse): void {
  if (seen.headers['x-api-key'] !== GOOD_KEY) {
    json(response, 401, {
      type: 'error',
      error: { type: 'authentication_error', message: `invalid x-api-key ${String(seen.headers['x-api-key'])}` },
    });
    return;
  }
  const messages = (seen.body as { messages: { content: string }[] }).messages;
  json(response, 200, { input_tokens: messages[0].content.split(' ').length + 7 });
}

/** Google's documented answers: {"totalTokens": n, ...}, or {"error": {"code": 400, "message": "API key not
 * valid…"}}. */
function gemini(seen: Seen, response: ServerResponse): void {
  if (seen.headers['x-goog-api-key'] !== GOOD_KEY) {
    json(response, 400, {
      error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT' },
    });
    return;
  }
  const text = (seen.body as { contents: { parts: { text: string }[] }[] }).contents[0].parts[0].text;
  json(response, 200, {
    totalTokens: text.split(' ').length,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: text.split(' ').length }],
  });
}

test('Anthropic: the documented request, input_tokens read back; a bad key is one line without the key', async () => {
  const { server, baseUrl, seen } = await startServer(anthropic);
  try {
    const api = { provider: 'anthropic', model: 'claude-sonnet-4-5' } as const;
    assert.equal(await requestExactCount({ api, text: 'one two three', apiKey: GOOD_KEY, baseUrl }), 10);
    assert.equal(seen[0].method, 'POST');
    assert.equal(seen[0].url, '/v1/messages/count_tokens');
    assert.equal(seen[0].headers['anthropic-version'], '2023-06-01');
    assert.deepEqual(seen[0].body, {
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'one two three' }],
    });
    const error = await requestExactCount({ api, text: 'x', apiKey: BAD_KEY, baseUrl }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(error instanceof ExactCountError);
    assert.match(error.message, /^Anthropic: API key rejected: invalid x-api-key …$/);
    assert.ok(!error.message.includes(BAD_KEY), 'the echoed key is masked');
    assert.ok(!error.message.includes('\n'));
  } finally {
    server.close();
  }
});

test('Gemini: the documented request, totalTokens read back; a bad key (400) says the key was rejected', async () => {
  const { server, baseUrl, seen } = await startServer(gemini);
  try {
    const api = { provider: 'gemini', model: 'gemini-2.5-pro' } as const;
    assert.equal(await requestExactCount({ api, text: 'a b c d', apiKey: GOOD_KEY, baseUrl }), 4);
    assert.equal(seen[0].url, '/v1beta/models/gemini-2.5-pro:countTokens');
    assert.equal(seen[0].headers['x-goog-api-key'], GOOD_KEY);
    assert.ok(!seen[0].url.includes(GOOD_KEY), 'the key travels in a header, not the URL');
    assert.deepEqual(seen[0].body, { contents: [{ role: 'user', parts: [{ text: 'a b c d' }] }] });
    await assert.rejects(
      requestExactCount({ api, text: 'x', apiKey: BAD_KEY, baseUrl }),
      /^ExactCountError: Gemini: API key rejected: API key not valid/,
    );
  } finally {
    server.close();
  }
});

test('a server that never answers times out; a closed port reads as offline; an empty key asks for one', async () => {
  const { server, baseUrl } = await startServer(() => undefined);
  const api = { provider: 'anthropic', model: 'claude-haiku-4-5' } as const;
  try {
    await assert.rejects(
      requestExactCount({ api, text: 'x', apiKey: GOOD_KEY, baseUrl, timeoutMs: 200 }),
      /^ExactCountError: Anthropic did not answer within 200 ms$/,
    );
  } finally {
    server.closeAllConnections();
    server.close();
  }
  // The port of the server just closed: nothing listens there now.
  await assert.rejects(
    requestExactCount({ api, text: 'x', apiKey: GOOD_KEY, baseUrl }),
    /^ExactCountError: cannot reach Anthropic \(ECONNREFUSED\)$/,
  );
  await assert.rejects(
    requestExactCount({ api, text: 'x', apiKey: '', baseUrl }),
    /no Anthropic API key \(run "Prompt Attention: Set API Key"\)/,
  );
});

test('a burst of requests makes one call, for the latest text', async () => {
  const debouncer = new ExactCountDebouncer(30);
  let calls = 0;
  const results = await Promise.all(
    [1, 2, 3].map((n) =>
      debouncer.request(async () => {
        calls++;
        return n * 100;
      }),
    ),
  );
  assert.equal(calls, 1);
  assert.deepEqual(results, [300, 300, 300]);
});
