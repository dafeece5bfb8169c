// The webview's row request is untrusted input: the host accepts only a well-formed one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWebviewMessage } from '../../../src/shared/webviewMessages';
import { isAttentionRowReply, rowUnavailable } from '../../../src/shared/attentionRowRequest';

test('an attention-row request is accepted with every field valid, refused in one line otherwise', () => {
  const good = { type: 'attention-row', requestId: 4, inspection: 2, layer: 1, head: null, query: 7000 };
  assert.deepEqual(parseWebviewMessage(good), good);
  assert.deepEqual(parseWebviewMessage({ ...good, head: 3 }), { ...good, head: 3 });
  for (const [bad, reason] of [
    [{ ...good, head: -1 }, /head must be/],
    [{ ...good, query: 1.5 }, /query must be/],
    [{ ...good, layer: '1' }, /layer must be/],
    [{ ...good, inspection: undefined }, /inspection must be/],
    [{ ...good, extra: 1 }, /unexpected field extra/],
  ] as const)
    assert.match(String(parseWebviewMessage(bad)), reason);
});

test('the reply when no worker holds the inspection names the request it answers', () => {
  const reply = rowUnavailable({ type: 'attention-row', requestId: 9, inspection: 3, layer: 0, head: 1, query: 5 });
  assert.ok(isAttentionRowReply(reply));
  assert.equal(reply.inReplyTo, 9);
  assert.equal(reply.weights, undefined);
  assert.match(reply.error ?? '', /run it again/);
});
