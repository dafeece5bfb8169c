import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as ort from 'onnxruntime-node';
import { cleanProviderError, createSession, gpuCandidates } from '../../../../src/engine/runtime/executionProviders';

const fakeSession = { release: async () => undefined } as unknown as ort.InferenceSession;

test('auto plans the GPU providers each platform offers, then CPU', () => {
  assert.deepEqual(gpuCandidates('auto', 'linux', ['cpu', 'webgpu']), ['webgpu']);
  assert.deepEqual(gpuCandidates('auto', 'win32', ['cpu', 'webgpu', 'dml']), ['webgpu', 'dml']);
  assert.deepEqual(gpuCandidates('auto', 'darwin', ['cpu', 'webgpu', 'coreml']), ['webgpu', 'coreml']);
  assert.deepEqual(gpuCandidates('auto', 'linux', ['cpu', 'cuda']), ['cuda']);
  assert.deepEqual(gpuCandidates('cpu', 'linux', ['cpu', 'webgpu']), []);
  assert.deepEqual(gpuCandidates('cuda', 'linux', ['cpu']), ['cuda']);
});

test('an unavailable provider falls back to CPU with a one-line reason', async () => {
  const tried: string[][] = [];
  const result = await createSession('model.onnx', 'webgpu', {
    bundled: ['cpu', 'webgpu'],
    known: ['cpu', 'webgpu'],
    preflight: () => null,
    create: async (_path, options) => {
      const providers = (options.executionProviders ?? []) as string[];
      tried.push(providers);
      if (providers[0] === 'webgpu') {
        throw new Error(
          '/onnxruntime_src/x/webgpu_context.cc:136 onnxruntime::Init() status == Success was false. Failed to get a WebGPU adapter: No supported adapters\n',
        );
      }
      return fakeSession;
    },
  });
  assert.equal(result.provider, 'cpu');
  assert.deepEqual(tried, [['webgpu', 'cpu'], ['cpu']]);
  assert.equal(
    result.fallbackReason,
    'webgpu unavailable (Failed to get a WebGPU adapter: No supported adapters); ran on CPU.',
  );
});

test('a provider this onnxruntime build does not have is reported, not silently replaced by CPU', async () => {
  const result = await createSession('model.onnx', 'dml', {
    bundled: ['cpu', 'webgpu'],
    known: ['cpu', 'webgpu', 'cuda'],
    platform: 'linux',
    create: async () => fakeSession,
  });
  assert.equal(result.provider, 'cpu');
  assert.match(result.fallbackReason ?? '', /^dml is not available in this onnxruntime build for linux; ran on CPU\.$/);
});

test('a GPU provider that hangs is abandoned after the timeout and CPU goes ahead', async () => {
  let released = false;
  let finishHang: (s: ort.InferenceSession) => void = () => undefined;
  const result = await createSession('model.onnx', 'auto', {
    bundled: ['cpu', 'webgpu'],
    known: ['cpu', 'webgpu'],
    platform: 'linux',
    preflight: () => null,
    timeoutMs: 50,
    create: (_path, options) => {
      if ((options.executionProviders as string[])[0] === 'webgpu') {
        return new Promise<ort.InferenceSession>((resolve) => (finishHang = resolve));
      }
      return Promise.resolve(fakeSession);
    },
  });
  assert.equal(result.provider, 'cpu');
  assert.match(result.fallbackReason ?? '', /webgpu unavailable \(did not start within 0 s\); ran on CPU\./);
  // The abandoned attempt's session, when it finally arrives, is released.
  finishHang({ release: async () => void (released = true) } as unknown as ort.InferenceSession);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(released, true);
});

test('a working GPU provider is reported as the one that ran', async () => {
  const result = await createSession('model.onnx', 'auto', {
    bundled: ['cpu', 'webgpu'],
    known: ['cpu', 'webgpu'],
    platform: 'linux',
    preflight: () => null,
    create: async () => fakeSession,
  });
  assert.equal(result.provider, 'webgpu');
  assert.equal(result.fallbackReason, undefined);
});

test('native error messages are reduced to their human part', () => {
  assert.equal(
    cleanProviderError('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'),
    'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library',
  );
  assert.equal(cleanProviderError('a\nb'), 'a');
});

test('webgpu on Linux without a Vulkan loader is skipped with the reason, without trying', async () => {
  let tried = 0;
  const result = await createSession('model.onnx', 'webgpu', {
    bundled: ['cpu', 'webgpu'],
    known: ['cpu', 'webgpu'],
    platform: 'linux',
    preflight: (provider) => (provider === 'webgpu' ? 'no Vulkan loader (libvulkan.so.1) on this system' : null),
    create: async (_path, options) => {
      tried++;
      assert.deepEqual(options.executionProviders, ['cpu']);
      return fakeSession;
    },
  });
  assert.equal(tried, 1);
  assert.equal(
    result.fallbackReason,
    'webgpu unavailable (no Vulkan loader (libvulkan.so.1) on this system); ran on CPU.',
  );
});

test('on this machine, an unavailable provider really falls back to CPU and the model runs', async () => {
  const { writeTinyModel, makeTempDir, removeTempDir } = await import('../../../helpers/tinyModel');
  const { LoadedModel } = await import('../../../../src/engine/runtime/loadedModel');
  const dir = await makeTempDir();
  try {
    const tiny = await writeTinyModel(`${dir}/m`);
    // coreml exists only in macOS builds, dml only in Windows builds.
    const missing = process.platform === 'darwin' ? 'dml' : 'coreml';
    const model = await LoadedModel.load(tiny.folder, { id: 'tiny', cacheDir: `${dir}/cache`, provider: missing });
    assert.equal(model.provider, 'cpu');
    assert.match(
      model.fallbackReason ?? '',
      new RegExp(`^${missing} is not available in this onnxruntime build .*; ran on CPU\\.$`),
    );
    const layers = await model.runAttention(model.tokenizer.tokenize('still runs').ids);
    assert.equal(layers.length, 2);
    await model.dispose();
  } finally {
    await removeTempDir(dir);
  }
});
