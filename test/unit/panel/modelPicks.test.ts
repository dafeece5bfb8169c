// The Choose Model… items: each shows name, source and format, then architecture, size, quantization and
// context; the user's current model is marked; the value is what the setting takes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DiscoveredModel } from '../../../src/engine/inspectApi';
import { chosenMessage, modelFacts, modelPicks } from '../../../src/panel/modelPicks';

const OLLAMA: DiscoveredModel = {
  name: 'qwen3:0.6b',
  source: 'ollama',
  model: 'ollama:qwen3:0.6b',
  format: 'gguf',
  architecture: 'qwen3',
  bytes: 522_653_952,
  quant: 'Q4_K_M',
  context: 40960,
};
const EMBEDDED: DiscoveredModel = {
  name: 'pa-mini-llama (embedded)',
  source: 'embedded',
  model: '',
  format: 'onnx',
  architecture: 'llama',
  bytes: 28_017_605,
  quant: 'fp32',
  context: 2048,
};
const HUB: DiscoveredModel = {
  name: 'onnx-community/Qwen2.5-0.5B-Instruct',
  source: 'hub',
  model: 'onnx-community/Qwen2.5-0.5B-Instruct',
  format: 'onnx',
  architecture: 'qwen2',
  bytes: null,
  quant: null,
  context: 32768,
};

test('items carry name, source, format and the facts', () => {
  const [embedded, ollama, hub] = modelPicks([EMBEDDED, OLLAMA, HUB], 'ollama:qwen3:0.6b');
  assert.deepEqual(ollama, {
    label: '$(check) qwen3:0.6b',
    description: 'Ollama · GGUF',
    detail: 'qwen3 · 498.4 MiB · Q4_K_M · context 40,960',
    value: 'ollama:qwen3:0.6b',
    current: true,
  });
  assert.equal(embedded.label, 'pa-mini-llama (embedded)');
  assert.equal(embedded.current, false);
  assert.equal(embedded.value, '');
  assert.equal(hub.detail, 'qwen2 · context 32,768', 'unknown size and quantization are left out');
  assert.equal(hub.description, 'Hub, downloaded on first use · ONNX');
});

test('an unset model marks the embedded one', () => {
  const [embedded, ollama] = modelPicks([EMBEDDED, OLLAMA], '');
  assert.ok(embedded.current && !ollama.current);
});

test('a model with no facts shows its value', () => {
  const bare = { ...OLLAMA, architecture: null, bytes: null, quant: null, context: null };
  assert.equal(modelFacts(bare), '');
  assert.equal(modelPicks([bare], '')[0].detail, 'ollama:qwen3:0.6b');
});

test('the message says when a trusted workspace overrides the user setting', () => {
  assert.equal(
    chosenMessage('qwen3:0.6b', undefined),
    'Prompt Attention now inspects with qwen3:0.6b (user settings).',
  );
  assert.match(chosenMessage('qwen3:0.6b', 'models/x'), /this workspace sets promptAttention\.model to "models\/x"/);
});

test('a GGUF of an architecture the engine does not build says so in its detail', () => {
  const mistral = { ...OLLAMA, name: 'mistral-small3.1', architecture: 'mistral3' };
  assert.equal(
    modelPicks([mistral], '')[0].detail,
    'mistral3 · 498.4 MiB · Q4_K_M · context 40,960 · not supported: a "mistral3" model',
  );
  assert.doesNotMatch(modelPicks([OLLAMA], '')[0].detail, /not supported/);
});
