// Discovery over temporary stores under a fake HOME: each source is found with its name, the value to set,
// format, architecture, size, quantization and context read from the files; missing stores are skipped and
// a broken GGUF is left out with a note.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DiscoveredModel } from '../../../../src/engine/runtime/modelDiscovery';
import { discoverModels, RECOMMENDED_HUB_MODELS } from '../../../../src/engine/runtime/modelDiscovery';
import type { StoreEnv } from '../../../../src/engine/runtime/ollamaStore';
import { addFile, addHfSnapshot, addOllamaModel, smallGguf } from '../../../helpers/modelStores';

const EMBEDDED = path.resolve(__dirname, '..', '..', '..', '..', 'models', 'pa-mini-llama');
let root: string;
let home: string;

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pa-discovery-'));
  home = path.join(root, 'home');
  fs.mkdirSync(home);
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const store = (env: Record<string, string> = {}): StoreEnv => ({ env, home });

function bySource(list: readonly DiscoveredModel[], source: string): DiscoveredModel[] {
  return list.filter((m) => m.source === source);
}

describe('model discovery', () => {
  test('an empty HOME lists the embedded model and the Hub suggestions only', async () => {
    const list = await discoverModels({ store: store(), embeddedFolder: EMBEDDED });
    assert.deepEqual(
      list.map((m) => m.source),
      ['embedded', ...RECOMMENDED_HUB_MODELS.map(() => 'hub')],
    );
    const embedded = list[0];
    assert.equal(embedded.model, '');
    assert.equal(embedded.format, 'onnx');
    assert.equal(embedded.architecture, 'llama');
    assert.equal(embedded.bytes, fs.statSync(path.join(EMBEDDED, 'onnx', 'model.onnx')).size);
  });

  test('finds Ollama, LM Studio, llama.cpp and Hugging Face cache models with their facts', async () => {
    const qwen = smallGguf('qwen3', 40960, 15);
    const blob = addOllamaModel(path.join(home, '.ollama', 'models'), 'qwen3', '0.6b', qwen);
    addOllamaModel(path.join(home, '.ollama', 'models'), 'someone/tiny', 'latest', smallGguf('llama', 2048, 7, 8));
    const lms = addFile(
      path.join(home, '.lmstudio', 'models', 'lmstudio-community', 'gemma-3-1b-it-GGUF', 'gemma-3-1b-it-Q8_0.gguf'),
      smallGguf('gemma3', 32768, 7),
    );
    addFile(path.join(home, '.lmstudio', 'models', 'lmstudio-community', 'gemma-3-1b-it-GGUF', 'mmproj-f16.gguf'), 'x');
    const cpp = addFile(
      path.join(home, '.cache', 'llama.cpp', 'org_repo_phi-4-mini-Q4_K_M.gguf'),
      smallGguf('phi3', 4096),
    );
    const hub = path.join(home, '.cache', 'huggingface', 'hub');
    const onnx = addHfSnapshot(hub, 'onnx-community/tiny', {
      'config.json': JSON.stringify({ model_type: 'qwen2', max_position_embeddings: 32768 }),
      'onnx/model_q4.onnx': new Uint8Array(100),
    });
    const st = addHfSnapshot(hub, 'Qwen/Qwen3-0.6B', {
      'config.json': JSON.stringify({ model_type: 'qwen3', max_position_embeddings: 40960, torch_dtype: 'bfloat16' }),
      'model.safetensors': new Uint8Array(300),
    });
    const ggufRepo = addHfSnapshot(hub, 'unsloth/Qwen3-0.6B-GGUF', { 'Qwen3-0.6B-Q4_K_M.gguf': qwen });

    const list = await discoverModels({ store: store(), embeddedFolder: EMBEDDED });
    assert.deepEqual(bySource(list, 'ollama'), [
      {
        name: 'qwen3:0.6b',
        source: 'ollama',
        model: 'ollama:qwen3:0.6b',
        format: 'gguf',
        architecture: 'qwen3',
        quant: 'Q4_K_M',
        context: 40960,
        bytes: qwen.length,
      },
      {
        name: 'someone/tiny:latest',
        source: 'ollama',
        model: 'ollama:someone/tiny:latest',
        format: 'gguf',
        architecture: 'llama',
        quant: 'Q8_0',
        context: 2048,
        bytes: smallGguf('llama', 2048, 7, 8).length,
      },
    ]);
    assert.ok(fs.existsSync(blob));
    const [lm] = bySource(list, 'lmstudio');
    assert.deepEqual(
      { name: lm.name, model: lm.model, architecture: lm.architecture, quant: lm.quant, context: lm.context },
      {
        name: 'lmstudio-community/gemma-3-1b-it-Q8_0',
        model: lms,
        architecture: 'gemma3',
        quant: 'Q8_0',
        context: 32768,
      },
    );
    assert.equal(bySource(list, 'lmstudio').length, 1, 'the vision projector is not a model');
    const [llamacpp] = bySource(list, 'llamacpp');
    assert.equal(llamacpp.model, cpp);
    assert.equal(llamacpp.quant, 'F32', 'no file type: the matrices type');
    const hf = bySource(list, 'hf-cache');
    assert.deepEqual(
      hf.map((m) => [m.name, m.format, m.model, m.architecture, m.context, m.bytes]),
      [
        ['Qwen/Qwen3-0.6B', 'safetensors', st, 'qwen3', 40960, 300],
        ['onnx-community/tiny', 'onnx', onnx, 'qwen2', 32768, 100],
        [
          'unsloth/Qwen3-0.6B-GGUF/Qwen3-0.6B-Q4_K_M',
          'gguf',
          path.join(ggufRepo, 'Qwen3-0.6B-Q4_K_M.gguf'),
          'qwen3',
          40960,
          qwen.length,
        ],
      ],
    );
    assert.equal(hf[0].quant, 'bfloat16');
  });

  test('OLLAMA_MODELS, LLAMA_CACHE and HF_HUB_CACHE move the stores', async () => {
    const elsewhere = path.join(root, 'elsewhere');
    addOllamaModel(path.join(elsewhere, 'ollama'), 'smollm2', '135m', smallGguf('llama', 8192, 1));
    addFile(path.join(elsewhere, 'cpp', 'x.gguf'), smallGguf('qwen2', 1024));
    addHfSnapshot(path.join(elsewhere, 'hub'), 'a/b', { 'b.gguf': smallGguf('llama', 512) });
    const list = await discoverModels({
      store: store({
        OLLAMA_MODELS: path.join(elsewhere, 'ollama'),
        LLAMA_CACHE: path.join(elsewhere, 'cpp'),
        HF_HUB_CACHE: path.join(elsewhere, 'hub'),
      }),
      embeddedFolder: EMBEDDED,
    });
    assert.ok(bySource(list, 'ollama').some((m) => m.model === 'ollama:smollm2:135m' && m.quant === 'F16'));
    assert.ok(bySource(list, 'llamacpp').some((m) => m.name === 'x'));
    assert.deepEqual(
      bySource(list, 'hf-cache').map((m) => m.name),
      ['a/b/b'],
    );
  });

  test('a file that is not a GGUF is left out and reported', async () => {
    const bad = addFile(path.join(home, '.cache', 'llama.cpp', 'broken.gguf'), 'not a gguf at all');
    const skipped: string[] = [];
    const list = await discoverModels({
      store: store(),
      embeddedFolder: EMBEDDED,
      onSkip: (where) => skipped.push(where),
    });
    assert.ok(!list.some((m) => m.model === bad));
    assert.deepEqual(skipped, [bad]);
    fs.rmSync(bad);
  });
});
