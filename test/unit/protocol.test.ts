import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWebviewToHostMessage } from '../../src/shared/protocol';

test('isWebviewToHostMessage accepts known messages and rejects others', () => {
  assert.equal(isWebviewToHostMessage({ type: 'ready' }), true);
  assert.equal(isWebviewToHostMessage({ type: 'focus', index: 3, attended: [] }), true);
  assert.equal(isWebviewToHostMessage({ type: 'nope' }), false);
  assert.equal(isWebviewToHostMessage(null), false);
  assert.equal(isWebviewToHostMessage('ready'), false);
});
