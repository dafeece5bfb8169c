// The shared request/reply mechanism between two MessageHandlers joined back to back (as a worker's port
// would join them): replies pair with their requests by id whatever the order, events reach only their
// request's listener, a cancel reaches the handler and ends the caller's wait, a failure is one line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MessageHandler,
  PendingReplies,
  request,
  RequestFailed,
  type Envelope,
} from '../../../src/shared/requestReply';

const ECHO = request<{ readonly value: number; readonly delayMs: number }, number, string>('echo');
const FAIL = request<null, null>('fail');
const WAIT = request<null, string, string>('wait');

function pair(): { caller: MessageHandler; server: MessageHandler; log: Envelope[] } {
  const log: Envelope[] = [];
  let server: MessageHandler | null = null;
  const caller = new MessageHandler((m) => {
    log.push(m);
    queueMicrotask(() => server?.handle(structuredClone(m)));
  });
  server = new MessageHandler((m) => {
    log.push(m);
    queueMicrotask(() => caller.handle(structuredClone(m)));
  });
  return { caller, server, log };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('replies pair with their requests by id, events go to their own listener', async () => {
  const { caller, server } = pair();
  server.serve(ECHO, async ({ value, delayMs }, served) => {
    served.emit(`start ${value}`);
    await sleep(delayMs);
    served.emit(`end ${value}`);
    return value * 10;
  });
  const seen = new Map<number, string[]>();
  const calls = [1, 2, 3].map((value) => {
    const events: string[] = [];
    seen.set(value, events);
    // The first request answers last.
    return caller.request(ECHO, { value, delayMs: 40 - value * 10 }, { onEvent: (e) => events.push(e) });
  });
  assert.deepEqual(await Promise.all(calls.map((c) => c.reply)), [10, 20, 30]);
  for (const [value, events] of seen) assert.deepEqual(events, [`start ${value}`, `end ${value}`]);
  assert.equal(caller.pending, 0);
});

test('a failure reaches the caller as one line; an unknown method fails too', async () => {
  const { caller, server } = pair();
  server.serve(FAIL, async () => {
    throw new Error('first line\nsecond line');
  });
  await assert.rejects(caller.request(FAIL, null).reply, (e: unknown) => {
    assert.ok(e instanceof RequestFailed);
    assert.equal(e.message, 'first line');
    assert.match(e.detail ?? '', /second line/);
    return true;
  });
  await assert.rejects(caller.request(WAIT, null).reply, /no handler for wait/);
});

test('cancel reaches the handler, ends the wait at once, and nothing more is posted for it', async () => {
  const { caller, server, log } = pair();
  let sawCancel = false;
  server.serve(WAIT, async (_p, served) => {
    while (!served.isCancelled()) await sleep(2);
    sawCancel = true;
    served.emit('late');
    return 'late reply';
  });
  const events: string[] = [];
  const call = caller.request(WAIT, null, { onEvent: (e) => events.push(e) });
  await sleep(10);
  call.cancel();
  await assert.rejects(call.reply, (e: unknown) => e instanceof RequestFailed && e.cancelled);
  await sleep(30);
  assert.ok(sawCancel);
  assert.deepEqual(events, []);
  assert.equal(log.filter((m) => m.rpc === 'reply' || m.rpc === 'event').length, 0);
});

test('failAll rejects every caller waiting (the other side died)', async () => {
  const caller = new MessageHandler(() => undefined);
  const a = caller.request(WAIT, null);
  const b = caller.request(WAIT, null);
  caller.failAll('the worker stopped');
  await assert.rejects(a.reply, /the worker stopped/);
  await assert.rejects(b.reply, /the worker stopped/);
  assert.equal(caller.pending, 0);
});

test('PendingReplies settles an id once and returns what was sent', async () => {
  const pending = new PendingReplies<string, { kind: string }>();
  const { id, reply } = pending.open({ kind: 'export' });
  assert.deepEqual(pending.settle(id, 'done'), { kind: 'export' });
  assert.equal(pending.settle(id, 'again'), undefined);
  assert.equal(await reply, 'done');
});
