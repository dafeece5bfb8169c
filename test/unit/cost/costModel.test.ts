import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attentionCostShare, causalScores, computeCost, crossoverTokens, kvBytesPerToken, tokensWithinKvBudget } from '../../../src/cost/costModel';
import { BUILT_IN_PRESETS, type TargetPreset } from '../../../src/cost/presets';

function preset(id: string): TargetPreset {
  const found = BUILT_IN_PRESETS.find((candidate) => candidate.id === id);
  assert.ok(found, id);
  return found;
}

test('KV cache per token: Llama 3.1 8B in bf16 holds 131,072 bytes, Llama 2 13B in fp16 819,200 (GQA-aware)', () => {
  assert.equal(kvBytesPerToken(preset('llama-3.1-8b'), 'bf16'), 131_072);
  assert.equal(kvBytesPerToken(preset('llama-2-13b'), 'fp16'), 819_200);
  assert.equal(computeCost(preset('llama-3.1-8b'), 1000).kvCacheBytes, 131_072_000);
  assert.equal(computeCost(preset('llama-2-13b'), 10).kvCacheBytes, 8_192_000);
  // A dtype override scales it: fp8 halves bf16.
  assert.equal(computeCost(preset('llama-3.1-8b'), 1000, 'fp8').kvCacheBytes, 65_536_000);
});

test('attention scores are n² per head per layer, causal n(n+1)/2, FLOPs 4·n²·d_head·heads·layers', () => {
  const llama = preset('llama-3.1-8b');
  const figures = computeCost(llama, 1000);
  assert.equal(figures.attentionScores, 1000 * 1000 * 32 * 32);
  assert.equal(figures.attentionScoresCausal, ((1000 * 1001) / 2) * 32 * 32);
  assert.equal(figures.attentionFlops, 4 * 1000 * 1000 * 128 * 32 * 32);
  assert.equal(figures.linearFlops, 2 * 8_030_261_248 * 1000);
  assert.equal(figures.contextShare, 1000 / 131_072);
  assert.ok(figures.attentionFlopsShare !== null && figures.attentionFlopsShare > 0 && figures.attentionFlopsShare < 0.05);
});

test('the quadratic term overtakes the dense FLOPs at P / (2·d_head·heads·layers) tokens', () => {
  const llama = preset('llama-3.1-8b');
  const n = crossoverTokens(llama);
  assert.equal(n, Math.round(8_030_261_248 / (2 * 128 * 32 * 32)));
  assert.ok(n !== null);
  const at = computeCost(llama, n);
  assert.ok(Math.abs((at.attentionFlops ?? 0) - (at.linearFlops ?? 0)) / (at.linearFlops ?? 1) < 1e-3);
});

test('a target without a public architecture gets null, not an invented number', () => {
  const figures = computeCost(preset('gpt-4o'), 5000);
  assert.equal(figures.attentionScores, null);
  assert.equal(figures.attentionScoresCausal, null);
  assert.equal(figures.attentionFlops, null);
  assert.equal(figures.linearFlops, null);
  assert.equal(figures.kvCacheBytes, null);
  assert.equal(figures.kvDtype, null);
  assert.equal(figures.tokens, 5000);
  assert.equal(figures.contextShare, 5000 / 128_000);
  assert.equal(figures.price, 0.0125);
  assert.equal(computeCost(preset('llama-3.1-8b'), 5000).price, null);
});

test('a sliding window caps keys per query and the rolling KV cache (Mistral 7B v0.1)', () => {
  const mistral = preset('mistral-7b');
  assert.equal(causalScores(10, 4), 4 * 5 / 2 + 6 * 4);
  assert.equal(causalScores(3, 4), 6);
  const figures = computeCost(mistral, 6000);
  assert.equal(figures.attentionScores, 6000 * 4096 * 32 * 32);
  assert.equal(figures.kvCacheBytes, 4096 * 2 * 32 * 8 * 128 * 2);
  assert.equal(computeCost(mistral, 100).kvCacheBytes, 100 * 131_072);
});

test('attention cost share of a section: (n² − (n − s)²) / n²', () => {
  assert.equal(attentionCostShare(0, 100), 0);
  assert.equal(attentionCostShare(100, 100), 1);
  assert.equal(attentionCostShare(10, 100), 0.19);
  assert.equal(attentionCostShare(5, 0), 0);
});

test('tokens within a KV budget', () => {
  assert.equal(tokensWithinKvBudget(preset('llama-3.1-8b'), 8 * 1024 ** 3), 65_536);
  assert.equal(tokensWithinKvBudget(preset('gpt-4'), 8 * 1024 ** 3), null);
  assert.equal(tokensWithinKvBudget(preset('llama-3.1-8b'), 0), null);
  // Mistral's rolling cache never holds more than 4,096 tokens (512 MiB in bf16).
  assert.equal(tokensWithinKvBudget(preset('mistral-7b'), 1024 ** 3), null);
  assert.equal(tokensWithinKvBudget(preset('mistral-7b'), 256 * 1024 ** 2), 2048);
});
