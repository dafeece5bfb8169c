// config.json numbers from an untrusted model folder: each sizing key a positive integer within bounds,
// heads sharing KV heads evenly; every refusal is one line naming the key; real configs still parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../../../src/engine/engineError';
import { parseModelConfig } from '../../../../src/engine/runtime/modelConfig';

const LLAMA = {
  model_type: 'llama',
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  hidden_size: 2048,
  max_position_embeddings: 131072,
  vocab_size: 128256,
};

function refused(json: Record<string, unknown>, pattern: RegExp): void {
  assert.throws(
    () => parseModelConfig(json, 'config.json'),
    (error: unknown) => {
      assert.ok(error instanceof EngineError, String(error));
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes('\n'));
      return true;
    },
  );
}

test('real configs parse: Llama 3.2 1B, GPT-2, Qwen2.5 0.5B (14 heads over 2 KV heads), Gemma head_dim', () => {
  assert.equal(parseModelConfig(LLAMA, 'c').headDim, 64);
  assert.equal(
    parseModelConfig({ n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, n_ctx: 1024, vocab_size: 50257 }, 'c')
      .kvHeads,
    12,
  );
  assert.equal(
    parseModelConfig(
      {
        num_hidden_layers: 24,
        num_attention_heads: 14,
        num_key_value_heads: 2,
        hidden_size: 896,
        max_position_embeddings: 32768,
        vocab_size: 151936,
      },
      'c',
    ).headDim,
    64,
  );
  assert.equal(
    parseModelConfig(
      {
        num_hidden_layers: 26,
        num_attention_heads: 8,
        num_key_value_heads: 4,
        head_dim: 256,
        hidden_size: 2304,
        vocab_size: 256000,
        head_dim_extra: null,
      },
      'c',
    ).headDim,
    256,
  );
});

test('negative, fractional, string and huge values are refused naming the key', () => {
  refused({ ...LLAMA, num_hidden_layers: -4 }, /num_hidden_layers is -4, not a positive whole number/);
  refused({ ...LLAMA, num_attention_heads: 2.5 }, /num_attention_heads is 2\.5/);
  refused({ ...LLAMA, vocab_size: '128256' }, /vocab_size is "128256"/);
  refused({ ...LLAMA, num_hidden_layers: 1e9 }, /num_hidden_layers is 1000000000, above the 1,024/);
  refused({ ...LLAMA, max_position_embeddings: 2 ** 40 }, /max_position_embeddings .* above/);
  refused({ ...LLAMA, vocab_size: Number.MAX_SAFE_INTEGER }, /vocab_size .* above/);
  refused({ ...LLAMA, hidden_size: 0 }, /hidden_size is 0/);
});

test('heads that do not divide evenly over the KV heads, or more KV heads than heads, are refused', () => {
  refused({ ...LLAMA, num_key_value_heads: 5 }, /32 attention heads cannot share 5 key\/value heads/);
  refused(
    { ...LLAMA, num_attention_heads: 4, num_key_value_heads: 8, hidden_size: 256 },
    /4 attention heads cannot share 8/,
  );
});

test('a head size that is not whole (hidden size not a multiple of the heads) is refused', () => {
  refused({ ...LLAMA, hidden_size: 2050 }, /head size .* works out to 64\.0625/);
});

test('nested text_config numbers are checked too', () => {
  refused({ model_type: 'x', text_config: { ...LLAMA, num_hidden_layers: -1 } }, /num_hidden_layers is -1/);
});
