import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILT_IN_PRESETS, buildCatalog, findPreset, unknownTargetMessage, validatePreset } from '../../../src/cost/presets';

test('the built-in presets cover the required targets, each number with a source', () => {
  const ids = BUILT_IN_PRESETS.map((preset) => preset.id);
  for (const id of ['llama-3.1-8b', 'llama-3.1-70b', 'llama-2-7b', 'llama-2-13b', 'mistral-7b', 'qwen2.5-7b', 'gpt-4o', 'gpt-4']) {
    assert.ok(ids.includes(id), `missing ${id}`);
  }
  for (const preset of BUILT_IN_PRESETS) {
    assert.ok(preset.sources.contextWindow, `${preset.id}: context window has no source`);
    assert.ok(preset.sources.architecture, `${preset.id}: architecture has no source (or "not public")`);
    if (preset.architecture) {
      assert.ok(preset.sources.parameters && preset.sources.kvDtype, `${preset.id}: parameters or KV dtype without a source`);
      assert.equal(preset.architecture.attentionHeads * preset.architecture.headDim, preset.architecture.hiddenSize, preset.id);
    }
    if (preset.pricePerMillionInputTokens !== null) assert.ok(preset.sources.price, `${preset.id}: price without a source`);
  }
});

test('GPT presets give only tokenizer and context window: no invented architecture', () => {
  const gpt4o = BUILT_IN_PRESETS.find((preset) => preset.id === 'gpt-4o');
  const gpt4 = BUILT_IN_PRESETS.find((preset) => preset.id === 'gpt-4');
  assert.equal(gpt4o?.tokenizer, 'o200k_base');
  assert.equal(gpt4o?.contextWindow, 128000);
  assert.equal(gpt4o?.architecture, null);
  assert.equal(gpt4o?.kvDtype, null);
  assert.equal(gpt4?.tokenizer, 'cl100k_base');
  assert.equal(gpt4?.contextWindow, 8192);
  assert.equal(gpt4?.architecture, null);
});

test('a bad user preset gets one line naming the preset and the field', () => {
  const base = { id: 'my-model', tokenizer: 'llama3', contextWindow: 32768 };
  const cases: [unknown, RegExp][] = [
    [{ ...base, contextWindow: -1 }, /^preset "my-model": "contextWindow" must be a positive integer/],
    [{ ...base, tokenizer: 'gpt2' }, /^preset "my-model": "tokenizer" must be one of o200k_base, /],
    [{ ...base, architecture: { layers: 2, attentionHeads: 8, kvHeads: 3, headDim: 64, hiddenSize: 512, parameters: 1e6 } }, /"architecture\.kvHeads" must divide/],
    [{ ...base, architecture: { layers: 2, attentionHeads: 8, kvHeads: 2, headDim: 64, hiddenSize: 512 } }, /"architecture\.parameters" must be a positive integer/],
    [{ ...base, kvDtype: 'fp12' }, /"kvDtype" must be one of/],
    [{ ...base, pricePerMillionInputTokens: 'free' }, /"pricePerMillionInputTokens"/],
    [{ tokenizer: 'llama3' }, /^preset #1: "id"/],
    ['llama', /^preset #1: must be an object/],
  ];
  for (const [raw, expected] of cases) {
    const result = validatePreset(raw);
    assert.ok('error' in result, `accepted ${JSON.stringify(raw)}`);
    assert.match(result.error, expected);
    assert.ok(!result.error.includes('\n'));
  }
});

test('user presets extend and override the built-ins; bad ones are reported and skipped', () => {
  const catalog = buildCatalog([
    { id: 'team-model', name: 'Team model', tokenizer: 'qwen2', contextWindow: 32768, architecture: { layers: 24, attentionHeads: 14, kvHeads: 2, headDim: 64, hiddenSize: 896, parameters: 494032768 } },
    { id: 'gpt-4', tokenizer: 'cl100k_base', contextWindow: 32768 },
    { id: 'broken', tokenizer: 'nope', contextWindow: 1 },
  ]);
  assert.equal(findPreset(catalog, 'team-model')?.kvDtype, 'bf16');
  assert.equal(findPreset(catalog, 'gpt-4')?.contextWindow, 32768);
  assert.equal(findPreset(catalog, 'broken'), undefined);
  assert.deepEqual(catalog.errors.length, 1);
  assert.match(catalog.errors[0], /^preset "broken": "tokenizer"/);
  assert.match(buildCatalog({}).errors[0], /must be an array/);
  assert.match(unknownTargetMessage(catalog, 'gpt-5'), /^unknown target "gpt-5"; valid ids: llama-3\.1-8b, .*team-model/);
});
