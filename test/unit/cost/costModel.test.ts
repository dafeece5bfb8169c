import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attentionCostShare,
  causalScores,
  computeCost,
  crossoverTokens,
  kvBytesPerToken,
  tokensWithinKvBudget,
} from '../../../src/cost/costModel';
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
  assert.ok(
    figures.attentionFlopsShare !== null && figures.attentionFlopsShare > 0 && figures.attentionFlopsShare < 0.05,
  );
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
  assert.equal(causalScores(10, 4), (4 * 5) / 2 + 6 * 4);
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

// KV cache by hand from each model's published config.json numbers (bf16 = 2 bytes). Windowed layers hold at
// most `sliding_window` tokens; full-attention layers hold all of them.
const BF16 = 2;
interface Hand {
  readonly id: string;
  readonly source: string;
  readonly bytes: (n: number) => number;
}
const gqa = (layers: number, kvHeads: number, headDim: number) => (n: number) =>
  layers * 2 * kvHeads * headDim * BF16 * n;
const HAND: Hand[] = [
  // huggingface.co/Qwen/Qwen3-8B config.json: num_hidden_layers 36, num_key_value_heads 8, head_dim 128.
  { id: 'qwen3-8b', source: 'Qwen/Qwen3-8B config.json', bytes: gqa(36, 8, 128) },
  // huggingface.co/Qwen/Qwen3-32B config.json: num_hidden_layers 64, num_key_value_heads 8, head_dim 128.
  { id: 'qwen3-32b', source: 'Qwen/Qwen3-32B config.json', bytes: gqa(64, 8, 128) },
  // huggingface.co/Qwen/Qwen3-235B-A22B config.json: num_hidden_layers 94, num_key_value_heads 4, head_dim 128.
  { id: 'qwen3-235b-a22b', source: 'Qwen/Qwen3-235B-A22B config.json', bytes: gqa(94, 4, 128) },
  // huggingface.co/meta-llama/Llama-3.2-1B config.json: 16 layers, 8 KV heads, head_dim 64.
  { id: 'llama-3.2-1b', source: 'meta-llama/Llama-3.2-1B config.json', bytes: gqa(16, 8, 64) },
  // huggingface.co/meta-llama/Llama-3.2-3B config.json: 28 layers, 8 KV heads, head_dim 128.
  { id: 'llama-3.2-3b', source: 'meta-llama/Llama-3.2-3B config.json', bytes: gqa(28, 8, 128) },
  // huggingface.co/meta-llama/Llama-3.3-70B-Instruct config.json: 80 layers, 8 KV heads, 8192 / 64 = 128.
  { id: 'llama-3.3-70b', source: 'meta-llama/Llama-3.3-70B-Instruct config.json', bytes: gqa(80, 8, 128) },
  // huggingface.co/deepseek-ai/DeepSeek-V3 config.json: 61 layers, kv_lora_rank 512, qk_rope_head_dim 64. MLA
  // caches the latent c_KV (512) and the shared rotary key k_R (64) per layer and token (arXiv:2412.19437 §2.1.1),
  // not 128 heads × (192 + 128): the GQA formula would give 61 × 128 × 320 × 2 = 4,997,120 bytes per token.
  { id: 'deepseek-v3', source: 'deepseek-ai/DeepSeek-V3 config.json', bytes: (n) => 61 * (512 + 64) * BF16 * n },
  // huggingface.co/google/gemma-3-27b-it config.json: 62 layers, 16 KV heads, head_dim 128, sliding_window 1024,
  // sliding_window_pattern 6: layers 6, 12, …, 60 are global (10), the other 52 keep 1,024 tokens.
  {
    id: 'gemma-3-27b',
    source: 'google/gemma-3-27b-it config.json',
    bytes: (n) => 2 * 16 * 128 * BF16 * (10 * n + 52 * Math.min(n, 1024)),
  },
  // google/gemma-3-12b-it: 48 layers (8 global, 40 local), 8 KV heads, head_dim 256, window 1024.
  {
    id: 'gemma-3-12b',
    source: 'google/gemma-3-12b-it config.json',
    bytes: (n) => 2 * 8 * 256 * BF16 * (8 * n + 40 * Math.min(n, 1024)),
  },
  // google/gemma-3-4b-it: 34 layers (5 global, 29 local), 4 KV heads, head_dim 256, window 1024.
  {
    id: 'gemma-3-4b',
    source: 'google/gemma-3-4b-it config.json',
    bytes: (n) => 2 * 4 * 256 * BF16 * (5 * n + 29 * Math.min(n, 1024)),
  },
  // huggingface.co/openai/gpt-oss-120b config.json: 36 layers alternating sliding_attention (window 128) and
  // full_attention, 8 KV heads, head_dim 64.
  {
    id: 'gpt-oss-120b',
    source: 'openai/gpt-oss-120b config.json',
    bytes: (n) => 2 * 8 * 64 * BF16 * (18 * n + 18 * Math.min(n, 128)),
  },
  // openai/gpt-oss-20b config.json: 24 layers, same alternation, 8 KV heads, head_dim 64.
  {
    id: 'gpt-oss-20b',
    source: 'openai/gpt-oss-20b config.json',
    bytes: (n) => 2 * 8 * 64 * BF16 * (12 * n + 12 * Math.min(n, 128)),
  },
];

test('KV cache of every open target matches a hand computation from its config.json', () => {
  for (const hand of HAND) {
    for (const n of [1, 100, 128, 129, 1024, 1025, 5000, 100_000]) {
      assert.equal(
        computeCost(preset(hand.id), n).kvCacheBytes,
        hand.bytes(n),
        `${hand.id} (${hand.source}) at ${n} tokens`,
      );
    }
  }
  assert.equal(kvBytesPerToken(preset('deepseek-v3'), 'bf16'), 70_272);
  // Every open built-in with an architecture has a hand computation here.
  const open = BUILT_IN_PRESETS.filter(
    (p) =>
      p.architecture &&
      !['llama-3.1-8b', 'llama-3.1-70b', 'llama-2-7b', 'llama-2-13b', 'mistral-7b', 'qwen2.5-7b'].includes(p.id),
  )
    .map((p) => p.id)
    .sort();
  assert.deepEqual(open, HAND.map((hand) => hand.id).sort());
});

test('KV budget with interleaved windows: the local layers stop growing at the window', () => {
  const gemma = preset('gemma-3-27b');
  const perLayerToken = 2 * 16 * 128 * BF16;
  const budget = 8 * 1024 ** 3;
  const fit = tokensWithinKvBudget(gemma, budget);
  assert.ok(fit !== null);
  assert.ok(perLayerToken * (10 * fit + 52 * 1024) <= budget);
  assert.ok(perLayerToken * (10 * (fit + 1) + 52 * 1024) > budget);
  // Below the window every layer grows.
  assert.equal(tokensWithinKvBudget(gemma, perLayerToken * 62 * 500), 500);
});

test('MoE targets use active parameters for the dense FLOPs; MLA attention uses d_qk + d_v', () => {
  const oss = computeCost(preset('gpt-oss-120b'), 1000);
  assert.equal(oss.linearFlops, 2 * 5_130_000_000 * 1000);
  // 18 full layers see n keys, 18 windowed ones min(n, 128); 64 heads; 2·(64 + 64) FLOPs per score.
  assert.equal(oss.attentionScores, 64 * (18 * 1000 * 1000 + 18 * 1000 * 128));
  assert.equal(oss.attentionFlops, 2 * 128 * 64 * (18 * 1000 * 1000 + 18 * 1000 * 128));
  const deepseek = computeCost(preset('deepseek-v3'), 1000);
  assert.equal(deepseek.attentionFlops, 2 * (192 + 128) * 1000 * 1000 * 128 * 61);
  assert.equal(deepseek.linearFlops, 2 * 37e9 * 1000);
  assert.equal(crossoverTokens(preset('deepseek-v3')), Math.round(37e9 / (320 * 128 * 61)));
  // Interleaved models: the global layers make attention catch up eventually, found by bisection.
  const gemmaCross = crossoverTokens(preset('gemma-3-27b'));
  assert.ok(gemmaCross !== null);
  const at = computeCost(preset('gemma-3-27b'), gemmaCross);
  const before = computeCost(preset('gemma-3-27b'), gemmaCross - 1);
  assert.ok(
    (at.attentionFlops ?? 0) >= (at.linearFlops ?? 0) && (before.attentionFlops ?? 0) < (before.linearFlops ?? 0),
  );
});

test('tiered prices: the whole prompt is billed at the tier it falls in', () => {
  const pro = preset('gemini-2.5-pro');
  const small = computeCost(pro, 200_000);
  assert.equal(small.priceTier?.aboveTokens, null);
  assert.equal(small.price, 0.2 * 1.25);
  const large = computeCost(pro, 200_001);
  assert.equal(large.priceTier?.aboveTokens, 200_000);
  assert.equal(large.price, (200_001 / 1e6) * 2.5);
  assert.equal(computeCost(preset('gpt-5'), 1000).priceTier?.tiered, false);
});

test('chat framing adds to the tokens the model reads and is reported apart', () => {
  const figures = computeCost(preset('gpt-5'), 100, undefined, 7);
  assert.equal(figures.tokens, 107);
  assert.equal(figures.promptTokens, 100);
  assert.equal(figures.chatOverheadTokens, 7);
  assert.equal(figures.contextShare, 107 / 400_000);
});
