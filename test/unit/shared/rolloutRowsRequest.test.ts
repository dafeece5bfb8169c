// The webview's rollout rows request is untrusted input: the host accepts only a well-formed one (bounded,
// distinct non-negative integer queries), and the reply without a worker names the request it answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWebviewMessage } from '../../../src/shared/webviewMessages';
import {
  isRolloutRowsReply,
  MAX_ROLLOUT_QUERIES,
  rolloutReplyTransferList,
  rolloutUnavailable,
} from '../../../src/shared/rolloutRowsRequest';

test('a rollout-rows request is accepted with every field valid, refused in one line otherwise', () => {
  const good = { type: 'rollout-rows', requestId: 4, inspection: 2, layer: 23, queries: [8000, 12, 0] };
  assert.deepEqual(parseWebviewMessage(good), good);
  assert.deepEqual(parseWebviewMessage({ ...good, queries: [] }), { ...good, queries: [] });
  const tooMany = Array.from({ length: MAX_ROLLOUT_QUERIES + 1 }, (_, i) => i);
  for (const [bad, reason] of [
    [{ ...good, queries: [1, -1] }, /queries must be/],
    [{ ...good, queries: [1.5] }, /queries must be/],
    [{ ...good, queries: '1,2' }, /queries must be/],
    [{ ...good, queries: tooMany }, /at most 1024/],
    [{ ...good, queries: [3, 3] }, /distinct/],
    [{ ...good, layer: null }, /layer must be/],
    [{ ...good, requestId: -2 }, /requestId must be/],
    [{ ...good, extra: 1 }, /unexpected field extra/],
  ] as const)
    assert.match(String(parseWebviewMessage(bad)), reason);
});

test('the reply when no worker holds the inspection names the request; rows transfer their buffers', () => {
  const request = { type: 'rollout-rows', requestId: 9, inspection: 3, layer: 1, queries: [5] } as const;
  const reply = rolloutUnavailable(request);
  assert.ok(isRolloutRowsReply(reply));
  assert.equal(reply.inReplyTo, 9);
  assert.equal(reply.rows, undefined);
  assert.match(reply.error ?? '', /run it again/);
  const rows = [new Float32Array(4), new Float32Array(4)];
  assert.deepEqual(rolloutReplyTransferList({ ...reply, rows }), [rows[0].buffer, rows[1].buffer]);
});
