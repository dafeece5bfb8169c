// The Hub token: the one the extension stores wins over $HF_TOKEN, goes only to the Hub itself (never to a
// mirror), and the download sends it. huggingface.co cannot be reached from the tests, so the download's
// fetch is replaced for one call to see the request it makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureHubModel, hubAuthHeader } from '../../../../src/engine/runtime/hubDownload';

test('the stored token wins over HF_TOKEN, HF_TOKEN still works, and neither goes to another host', () => {
  const hub = 'https://huggingface.co/';
  assert.deepEqual(hubAuthHeader(hub, 'hf_stored', { HF_TOKEN: 'hf_env' }), { Authorization: 'Bearer hf_stored' });
  assert.deepEqual(hubAuthHeader(hub, undefined, { HF_TOKEN: 'hf_env' }), { Authorization: 'Bearer hf_env' });
  assert.deepEqual(hubAuthHeader('https://hf.co/', '  ', { HF_ACCESS_TOKEN: 'hf_old' }), {
    Authorization: 'Bearer hf_old',
  });
  assert.deepEqual(hubAuthHeader(hub, undefined, {}), {});
  assert.deepEqual(hubAuthHeader('http://127.0.0.1:8080/', 'hf_stored', { HF_TOKEN: 'hf_env' }), {});
  assert.deepEqual(hubAuthHeader('https://huggingface.co.evil.example/', 'hf_stored', {}), {});
});

test('a Hub download sends the token it is given, and a 401 names the command that stores one', async () => {
  const original = globalThis.fetch;
  const seen: { url: string; authorization: string | undefined }[] = [];
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const headers = (init?.headers ?? {}) as Record<string, string>;
    seen.push({ url: String(input), authorization: headers.Authorization });
    return new Response('{"error":"gated"}', { status: 401 });
  };
  try {
    await assert.rejects(
      ensureHubModel('owner/gated-model', path.join(os.tmpdir(), `pa-hub-token-${process.pid}`), {
        endpoint: 'https://huggingface.co/',
        token: 'hf_secret',
      }),
      /Set Hugging Face Token/,
    );
  } finally {
    globalThis.fetch = original;
  }
  assert.ok(seen.length >= 1);
  assert.ok(seen[0].url.startsWith('https://huggingface.co/api/models/owner/gated-model'), seen[0].url);
  assert.equal(seen[0].authorization, 'Bearer hf_secret');
});
