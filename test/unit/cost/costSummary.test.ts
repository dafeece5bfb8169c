import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeCostSummary } from '../../../src/cost/costSummary';

test('computeCostSummary counts with the target tokenizer and fills the protocol type', async () => {
  const summary = await computeCostSummary('Hello world!', 'llama-2-13b');
  assert.equal(summary.target, 'llama-2-13b');
  assert.equal(summary.targetName, 'Llama 2 13B');
  assert.equal(summary.tokens, 3);
  assert.equal(summary.contextWindow, 4096);
  assert.equal(summary.kvCacheBytes, 3 * 819_200);
  assert.equal(summary.attentionScoresCausal, 6 * 40 * 40);
  assert.deepEqual(summary.warnings, []);
});

test('computeCostSummary warns past the thresholds and the KV budget, and rejects unknown targets', async () => {
  const text = Array(3500).fill('token').join(' ');
  const warned = await computeCostSummary(text, 'llama-2-7b', { kvBudgetBytes: 1024 ** 3 });
  assert.equal(warned.tokens, 3500);
  assert.match(warned.warnings[0], /3,500 tokens use 85\.4 % of Llama 2 7B's 4k-token context window/);
  assert.match(warned.warnings[1], /KV cache of 1\.71 GiB \(fp16\) exceeds the 1 GiB budget after 2,048 tokens/);
  const over = await computeCostSummary(text, 'llama-2-7b', { errorShare: 0.5 });
  assert.match(over.warnings[0], /above the 50\.0 % error threshold/);
  await assert.rejects(computeCostSummary('x', 'nope'), /unknown target "nope"; valid ids: /);
});

test('the summary says when its count is an estimate, for the panel to mark it "≈"', async () => {
  assert.equal((await computeCostSummary('Hello world!', 'claude-haiku-4.5')).exact, false);
  assert.equal((await computeCostSummary('Hello world!', 'gemini-2.5-flash')).exact, false);
  assert.equal((await computeCostSummary('Hello world!', 'qwen3-8b')).exact, true);
});
