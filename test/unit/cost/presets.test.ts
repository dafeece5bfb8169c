import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BUILT_IN_PRESETS,
  buildCatalog,
  findPreset,
  unknownTargetMessage,
  validatePreset,
} from '../../../src/cost/presets';

const REQUIRED_TARGETS = [
  'llama-3.1-8b',
  'llama-3.1-70b',
  'llama-2-7b',
  'llama-2-13b',
  'mistral-7b',
  'qwen2.5-7b',
  'gpt-4o',
  'gpt-4',
  'gpt-5',
  'gpt-5-mini',
  'gpt-5-nano',
  'gpt-5.1',
  'gpt-5.5',
  'gpt-4.1',
  'gpt-4.1-mini',
  'gpt-oss-120b',
  'gpt-oss-20b',
  'qwen3-8b',
  'qwen3-32b',
  'qwen3-235b-a22b',
  'deepseek-v3',
  'gemma-3-4b',
  'gemma-3-12b',
  'gemma-3-27b',
  'llama-3.2-1b',
  'llama-3.2-3b',
  'llama-3.3-70b',
  'claude-sonnet-4.5',
  'claude-opus-4.5',
  'claude-haiku-4.5',
  'gemini-2.5-pro',
  'gemini-2.5-flash',
  'gemini-3-pro',
];

test('the built-in presets cover the required targets, each number with a source', () => {
  const ids = BUILT_IN_PRESETS.map((preset) => preset.id);
  for (const id of REQUIRED_TARGETS) assert.ok(ids.includes(id), `missing ${id}`);
  for (const preset of BUILT_IN_PRESETS) {
    assert.match(preset.id, /^[a-z][a-z0-9.-]*$/, 'ids are lower-case family then size');
    assert.ok(preset.sources.contextWindow, `${preset.id}: context window has no source`);
    assert.ok(preset.sources.architecture, `${preset.id}: architecture has no source (or "not public")`);
    assert.ok(preset.sources.tokenizer, `${preset.id}: tokenizer has no source`);
    assert.notEqual(preset.provider, 'Custom', preset.id);
    if (preset.architecture) {
      assert.ok(
        preset.sources.parameters && preset.sources.kvDtype,
        `${preset.id}: parameters or KV dtype without a source`,
      );
    }
    if (preset.pricePerMillionInputTokens !== null)
      assert.match(preset.sources.price ?? '', /as of 20\d\d-\d\d/, `${preset.id}: price without a dated source`);
    if (preset.priceTiers.length > 0)
      assert.match(preset.sources.price ?? '', /above/, `${preset.id}: tiers without a source`);
    if (preset.chatFraming) assert.ok(preset.sources.chatFraming, `${preset.id}: chat framing without a source`);
    // API models change their limits: their context windows carry a date (open models cite a fixed config.json).
    if (!preset.architecture)
      assert.match(preset.sources.contextWindow, /20\d\d-\d\d/, `${preset.id}: context window without a date`);
    if (!preset.exact) {
      assert.match(preset.sources.estimate ?? '', /error band/, `${preset.id}: an estimate states its error band`);
      assert.equal(preset.architecture, null, preset.id);
    }
  }
});

test('Claude and Gemini are estimates with an exact count on request; every other built-in counts exactly', () => {
  for (const preset of BUILT_IN_PRESETS) {
    const estimate = preset.provider === 'Anthropic' || preset.id.startsWith('gemini-');
    assert.equal(preset.exact, !estimate, preset.id);
    assert.equal(
      preset.countApi?.provider,
      estimate ? (preset.provider === 'Anthropic' ? 'anthropic' : 'gemini') : undefined,
      preset.id,
    );
  }
  assert.equal(BUILT_IN_PRESETS.find((preset) => preset.id === 'claude-sonnet-4.5')?.tokenizer, 'claude');
  assert.equal(BUILT_IN_PRESETS.find((preset) => preset.id === 'gemini-2.5-pro')?.tokenizer, 'gemma3');
  assert.equal(BUILT_IN_PRESETS.find((preset) => preset.id === 'gpt-oss-120b')?.tokenizer, 'o200k_harmony');
  for (const id of ['gpt-5', 'gpt-5-mini', 'gpt-5-nano', 'gpt-4.1'])
    assert.equal(BUILT_IN_PRESETS.find((preset) => preset.id === id)?.tokenizer, 'o200k_base', id);
});

test('new preset fields are validated with one line each', () => {
  const base = { id: 'm', tokenizer: 'llama3', contextWindow: 1000 };
  const arch = { layers: 4, attentionHeads: 8, kvHeads: 2, headDim: 64, hiddenSize: 512, parameters: 1e6 };
  const cases: [unknown, RegExp][] = [
    [
      { ...base, architecture: { ...arch, slidingWindowLayers: 2 } },
      /"architecture\.slidingWindowLayers" must be a positive integer up to layers, with slidingWindow/,
    ],
    [{ ...base, architecture: { ...arch, slidingWindow: 16, slidingWindowLayers: 5 } }, /slidingWindowLayers/],
    [{ ...base, architecture: { ...arch, activeParameters: 2e6 } }, /"architecture\.activeParameters"/],
    [{ ...base, architecture: { ...arch, mla: { kvLoraRank: 512 } } }, /"architecture\.mla"/],
    [
      { ...base, priceTiers: [{ aboveTokens: 10, pricePerMillionInputTokens: 1 }] },
      /"priceTiers" needs pricePerMillionInputTokens/,
    ],
    [{ ...base, exact: 'no' }, /"exact" must be true or false/],
    [{ ...base, chatFraming: { prefix: 'x' } }, /"chatFraming"/],
    [{ ...base, countApi: { provider: 'openai', model: 'x' } }, /"countApi" must be/],
  ];
  for (const [raw, expected] of cases) {
    const result = validatePreset(raw);
    assert.ok('error' in result, `accepted ${JSON.stringify(raw)}`);
    assert.match(result.error, expected);
  }
  const ok = validatePreset({
    ...base,
    pricePerMillionInputTokens: 1,
    priceTiers: [{ aboveTokens: 10, pricePerMillionInputTokens: 2 }],
    exact: false,
    countApi: { provider: 'gemini', model: 'gemini-2.5-pro' },
  });
  assert.ok('preset' in ok);
  assert.equal(ok.preset.provider, 'Custom');
  assert.equal(ok.preset.exact, false);
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
    [
      {
        ...base,
        architecture: { layers: 2, attentionHeads: 8, kvHeads: 3, headDim: 64, hiddenSize: 512, parameters: 1e6 },
      },
      /"architecture\.kvHeads" must divide/,
    ],
    [
      { ...base, architecture: { layers: 2, attentionHeads: 8, kvHeads: 2, headDim: 64, hiddenSize: 512 } },
      /"architecture\.parameters" must be a positive integer/,
    ],
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
    {
      id: 'team-model',
      name: 'Team model',
      tokenizer: 'qwen2',
      contextWindow: 32768,
      architecture: { layers: 24, attentionHeads: 14, kvHeads: 2, headDim: 64, hiddenSize: 896, parameters: 494032768 },
    },
    { id: 'gpt-4', tokenizer: 'cl100k_base', contextWindow: 32768 },
    { id: 'broken', tokenizer: 'nope', contextWindow: 1 },
  ]);
  assert.equal(findPreset(catalog, 'team-model')?.kvDtype, 'bf16');
  assert.equal(findPreset(catalog, 'gpt-4')?.contextWindow, 32768);
  assert.equal(findPreset(catalog, 'broken'), undefined);
  assert.deepEqual(catalog.errors.length, 1);
  assert.match(catalog.errors[0], /^preset "broken": "tokenizer"/);
  assert.match(buildCatalog({}).errors[0], /must be an array/);
  assert.match(
    unknownTargetMessage(catalog, 'gpt-9'),
    /^unknown target "gpt-9"; valid ids: llama-3\.1-8b, .*team-model/,
  );
});
