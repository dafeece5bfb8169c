// Which GGUF file a model setting names: `ollama:<name>[:<tag>]` through the manifests of a fake Ollama
// store, a folder holding one GGUF, a `.gguf` path; and the one-line errors for what is not there.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EngineError } from '../../../../src/engine/engineError';
import { folderModelId, resolveModel } from '../../../../src/engine/runtime/modelSource';
import { parseOllamaRef, resolveOllamaModel } from '../../../../src/engine/runtime/ollamaStore';
import type { StoreEnv } from '../../../../src/engine/runtime/ollamaStore';
import { addFile, addOllamaModel, smallGguf } from '../../../helpers/modelStores';

let root: string;
let store: StoreEnv;
let ollama: string;

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pa-gguf-loc-'));
  store = { env: {}, home: path.join(root, 'home') };
  ollama = path.join(store.home, '.ollama', 'models');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const resolve = (setting: string): ReturnType<typeof resolveModel> =>
  resolveModel(setting, { modelsDir: path.join(root, 'models'), storageDir: path.join(root, 'storage'), store });

function oneLine(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => e instanceof EngineError && pattern.test(e.message) && !e.message.includes('\n');
}

describe('Ollama names', () => {
  test('parse as ollama run does', () => {
    assert.deepEqual(parseOllamaRef('ollama:qwen3'), {
      host: 'registry.ollama.ai',
      namespace: 'library',
      model: 'qwen3',
      tag: 'latest',
    });
    assert.deepEqual(parseOllamaRef('ollama:someone/tiny:q8'), {
      host: 'registry.ollama.ai',
      namespace: 'someone',
      model: 'tiny',
      tag: 'q8',
    });
    assert.deepEqual(parseOllamaRef('ollama:hf.co/org/repo:Q4_K_M'), {
      host: 'hf.co',
      namespace: 'org',
      model: 'repo',
      tag: 'Q4_K_M',
    });
    assert.equal(parseOllamaRef('ollama:../../etc/passwd'), null);
    assert.equal(parseOllamaRef('ollama:a/b/c/d'), null);
  });

  test('resolve to the model blob; the tag defaults to latest', async () => {
    const latest = addOllamaModel(ollama, 'qwen3', 'latest', smallGguf('qwen3', 4096));
    const small = addOllamaModel(ollama, 'qwen3', '0.6b', smallGguf('qwen3', 2048));
    assert.equal(await resolveOllamaModel('ollama:qwen3', store), latest);
    assert.equal(await resolveOllamaModel('ollama:qwen3:0.6b', store), small);
    const location = await resolve('ollama:qwen3:0.6b');
    assert.deepEqual(location, { id: 'ollama:qwen3:0.6b', folder: path.dirname(small), gguf: small });
  });

  test('$OLLAMA_MODELS is searched first', async () => {
    const moved = path.join(root, 'moved');
    const blob = addOllamaModel(moved, 'qwen3', 'latest', smallGguf('qwen3', 999));
    assert.equal(await resolveOllamaModel('ollama:qwen3', { ...store, env: { OLLAMA_MODELS: moved } }), blob);
  });

  test('a missing model is one line listing what the store holds', async () => {
    await assert.rejects(
      resolve('ollama:llama3.2:1b'),
      oneLine(/llama3\.2:1b not found .*there: qwen3:0\.6b, qwen3:latest\./),
    );
  });

  test('a manifest whose blob is gone is one line naming the blob', async () => {
    const blob = addOllamaModel(ollama, 'gone', 'latest', smallGguf('llama', 1));
    fs.rmSync(blob);
    await assert.rejects(
      resolve('ollama:gone'),
      oneLine(/Ollama model gone:latest: its blob .*sha256-[0-9a-f]{64} is missing/),
    );
  });
});

describe('GGUF paths', () => {
  test('a .gguf file and a folder holding one resolve to the file', async () => {
    const file = addFile(path.join(root, 'lms', 'pub', 'repo', 'tiny-Q8_0.gguf'), smallGguf('llama', 64));
    addFile(path.join(root, 'lms', 'pub', 'repo', 'mmproj-tiny-f16.gguf'), smallGguf('clip', 64));
    assert.deepEqual(await resolve(file), { id: 'tiny-Q8_0', folder: path.dirname(file), gguf: file });
    assert.deepEqual(await resolve(path.dirname(file)), { id: 'tiny-Q8_0', folder: path.dirname(file), gguf: file });
  });

  test('a folder with several GGUF files names them', async () => {
    const folder = path.join(root, 'several');
    addFile(path.join(folder, 'a-Q4_K_M.gguf'), smallGguf('llama', 64));
    addFile(path.join(folder, 'a-Q8_0.gguf'), smallGguf('llama', 64));
    await assert.rejects(resolve(folder), oneLine(/holds several GGUF files \(a-Q4_K_M\.gguf, a-Q8_0\.gguf\)/));
  });

  test('a missing .gguf file is one line', async () => {
    await assert.rejects(resolve(path.join(root, 'nope.gguf')), oneLine(/GGUF file not found: .*nope\.gguf/));
  });

  test('an ONNX folder that also holds a GGUF stays an ONNX folder', async () => {
    const folder = path.join(root, 'onnx-model');
    addFile(path.join(folder, 'config.json'), '{}');
    addFile(path.join(folder, 'onnx', 'model.onnx'), 'x');
    addFile(path.join(folder, 'extra.gguf'), smallGguf('llama', 64));
    assert.deepEqual(await resolve(folder), { id: 'onnx-model', folder });
  });
});

test('a Hugging Face cache snapshot is called by its repository id', async () => {
  const snapshot = path.join(root, 'hub', 'models--Qwen--Qwen3-0.6B', 'snapshots', 'a'.repeat(40));
  assert.equal(folderModelId(snapshot), 'Qwen/Qwen3-0.6B');
  assert.equal(folderModelId(path.join(root, 'plain-folder')), 'plain-folder');
  addFile(path.join(snapshot, 'config.json'), '{}');
  assert.equal((await resolve(snapshot)).id, 'Qwen/Qwen3-0.6B');
});
