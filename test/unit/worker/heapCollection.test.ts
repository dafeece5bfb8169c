// Tests for the engine worker's heap collection: the full collection works without --expose-gc (as the
// extension host's worker runs) and leaves no `gc` global behind; the budget collects only at its threshold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { fullCollectionFunction, GarbageBudget } from '../../../src/worker/heapCollection';

test('fullCollectionFunction collects without --expose-gc and leaves no gc global', async () => {
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'this test must run without --expose-gc');
  const collect = fullCollectionFunction();
  assert.equal(typeof collect, 'function');
  let held: Float32Array | null = new Float32Array(1 << 20);
  const ref = new WeakRef(held);
  held = null;
  await tick();
  collect?.();
  await tick();
  assert.equal(ref.deref(), undefined, 'an object held only by a WeakRef survives the full collection');
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
});

test('GarbageBudget collects once the bytes reach the threshold, then starts over', () => {
  let collections = 0;
  const budget = new GarbageBudget(() => collections++, 100);
  budget.add(60);
  assert.equal(budget.settle(), false);
  budget.add(39);
  assert.equal(budget.settle(), false);
  assert.equal(collections, 0);
  budget.add(1);
  assert.equal(budget.settle(), true);
  assert.equal(collections, 1);
  assert.equal(budget.settle(), false, 'the count resets after a collection');
  budget.add(250);
  assert.equal(budget.settle(), true);
  assert.equal(collections, 2);
});

test('GarbageBudget without a collection function never collects', () => {
  const budget = new GarbageBudget(null, 1);
  budget.add(1e9);
  assert.equal(budget.settle(), false);
});
