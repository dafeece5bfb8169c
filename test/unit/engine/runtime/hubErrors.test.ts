// A Hub host that cannot be reached: Node's fetch says only "fetch failed", so the user's line gains the root
// cause's code and host, and the log's detail the whole cause chain with the proxy hint. A real refused
// connection (a port that was just closed), not a faked error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorEvent } from '../../../../src/engine/inspectApi';
import { ensureHubModel } from '../../../../src/engine/runtime/hubDownload';
import { describeError, lineWithCause, networkHint } from '../../../../src/shared/errorText';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('a refused Hub connection: one line with the code and host, the cause chain and a proxy hint in the log', async () => {
  const port = await closedPort();
  const storage = path.join(os.tmpdir(), `pa-hub-refused-${process.pid}`);
  let caught: unknown;
  await ensureHubModel('owner/model', storage, { endpoint: `http://127.0.0.1:${port}/` }).catch((error: unknown) => {
    caught = error;
  });
  assert.ok(caught instanceof Error, 'the download did not fail');
  assert.match(
    caught.message,
    new RegExp(`^Cannot list the files of owner/model .*fetch failed \\(ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)$`),
  );
  assert.ok(!caught.message.includes('\n'));
  const event = errorEvent(7, caught);
  assert.equal(event.kind, 'error');
  if (event.kind !== 'error') return;
  assert.equal(event.message, caught.message);
  const detail = event.detail ?? '';
  assert.match(detail, /Caused by TypeError: fetch failed/);
  assert.match(
    detail,
    new RegExp(
      `Caused by Error: connect ECONNREFUSED 127\\.0\\.0\\.1:${port} \\(code ECONNREFUSED, syscall connect, host 127\\.0\\.0\\.1:${port}\\)`,
    ),
  );
  assert.match(detail, /HTTPS_PROXY/);
});

test('errors without a network cause get no hint, and a plain error keeps its one line', () => {
  const plain = new Error('bad graph');
  assert.equal(lineWithCause(plain), 'bad graph');
  assert.equal(networkHint(plain), undefined);
  assert.ok(!describeError(plain).includes('Caused by'));
  const http = new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ERR_BAD_THING' }) });
  assert.equal(lineWithCause(http), 'outer (ERR_BAD_THING)');
  assert.equal(networkHint(http), undefined);
});
