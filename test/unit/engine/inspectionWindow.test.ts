// The window an over-long inspection keeps: the first tokens, the last ones (after BOS), or the ones centred on
// the cursor ("Inspect Around the Cursor"), shifted inward at the ends; BOS is kept, ids follow their tokens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyWindow } from '../../../src/engine/inspection';
import { fallbackIsWarning, type TokenInfo } from '../../../src/shared/protocol';

/** BOS plus `n` three-character tokens: token k (1-based) spans [3(k − 1), 3k). */
function tokens(n: number): { ids: number[]; tokens: TokenInfo[] } {
  const list: TokenInfo[] = [{ id: 1, text: '', start: 0, end: 0, special: true }];
  for (let k = 1; k <= n; k++) list.push({ id: 100 + k, text: 'abc', start: 3 * (k - 1), end: 3 * k });
  return { ids: list.map((t) => t.id), tokens: list };
}

test('around the cursor: BOS plus the tokens centred on the one under the offset', () => {
  const all = tokens(100);
  const cut = applyWindow(all.ids, all.tokens, 11, 'start', 3 * 49 + 1); // inside token 50
  assert.equal(cut.tokens.length, 11);
  assert.ok(cut.tokens[0].special);
  assert.deepEqual(
    cut.tokens.slice(1).map((t) => t.id - 100),
    [45, 46, 47, 48, 49, 50, 51, 52, 53, 54],
  );
  assert.deepEqual(
    cut.ids,
    cut.tokens.map((t) => t.id),
  );
});

test('around the cursor near either end shifts the window inward; short texts are whole', () => {
  const all = tokens(100);
  const start = applyWindow(all.ids, all.tokens, 11, 'end', 0);
  assert.deepEqual(
    start.tokens.slice(1).map((t) => t.id - 100),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
  );
  const end = applyWindow(all.ids, all.tokens, 11, 'start', 10_000);
  assert.deepEqual(
    end.tokens.slice(1).map((t) => t.id - 100),
    [91, 92, 93, 94, 95, 96, 97, 98, 99, 100],
  );
  const short = tokens(5);
  assert.equal(applyWindow(short.ids, short.tokens, 11, 'start', 7).tokens.length, 6);
});

test('without a cursor: the first tokens, or BOS and the last ones', () => {
  const all = tokens(20);
  assert.deepEqual(
    applyWindow(all.ids, all.tokens, 5, 'start').tokens.map((t) => t.id),
    [1, 101, 102, 103, 104],
  );
  assert.deepEqual(
    applyWindow(all.ids, all.tokens, 5, 'end').tokens.map((t) => t.id),
    [1, 117, 118, 119, 120],
  );
});

test('a CPU fallback is a warning only when a GPU provider was asked for by name', () => {
  const reason = 'webgpu unavailable (no Vulkan loader); ran on CPU.';
  assert.equal(fallbackIsWarning({ fallbackReason: reason, requestedProvider: 'auto' }), false);
  assert.equal(fallbackIsWarning({ fallbackReason: reason, requestedProvider: 'webgpu' }), true);
  assert.equal(fallbackIsWarning({ fallbackReason: reason, requestedProvider: 'cuda' }), true);
  assert.equal(fallbackIsWarning({ requestedProvider: 'cuda' }), false);
  assert.equal(fallbackIsWarning({ fallbackReason: reason }), false, 'a result from before the field: no warning');
});
