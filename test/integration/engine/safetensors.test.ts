// Hugging Face checkpoints (config.json + safetensors) through the model cache: the same tiny decoders as
// the GGUF fixtures, rewritten in HF's conventions (safetensorsFixtures.ts), compute the same function:
// attention within 1e-4 and the next-token probabilities within 2e-3 of the float64 pass on the weights.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { ModelCache } from '../../../src/engine/runtime/modelCache';
import type { FixtureOptions } from '../../helpers/ggufFixtures';
import { buildGgufFixture } from '../../helpers/ggufFixtures';
import { ggufReferenceForward, softmaxRow } from '../../helpers/ggufReference';
import type { CheckpointOptions } from '../../helpers/safetensorsFixtures';
import { writeCheckpoint } from '../../helpers/safetensorsFixtures';

let dir = '';
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'safetensors-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const CASES: [FixtureOptions, CheckpointOptions][] = [
  [{ arch: 'llama', type: 'F32' }, { dtype: 'F32' }],
  [
    { arch: 'qwen2', type: 'BF16', tied: true },
    { dtype: 'BF16', sharded: true },
  ],
  [{ arch: 'qwen3', type: 'F32' }, { dtype: 'F32' }],
  [{ arch: 'gemma3', type: 'F32', slidingWindow: 5 }, { dtype: 'F32' }],
];

for (const [fixtureOptions, checkpoint] of CASES) {
  const label = `${fixtureOptions.arch} ${checkpoint.dtype}${checkpoint.sharded ? ' sharded' : ''}`;
  test(`checkpoint ${label}: attention and next match the float64 pass`, async () => {
    const fixture = buildGgufFixture(fixtureOptions);
    const folder = path.join(dir, label.replace(/\W+/g, '-'));
    await writeCheckpoint(fixture, folder, checkpoint);
    const cache = new ModelCache({ modelsDir: path.join(dir, 'models'), cacheDir: path.join(dir, 'cache') });
    try {
      const model = await cache.get(folder, 'cpu', () => undefined);
      assert.equal(model.origin.format, 'safetensors');
      assert.equal(model.dtype, checkpoint.dtype === 'BF16' ? 'fp32 (from bf16)' : 'fp32');
      const ids = [3, 40, 41, 200, 201, 17, 18, 250, 40, 41, 60, 61];
      const run = await model.runTensors(ids);
      const reference = ggufReferenceForward(fixture, ids);
      let worst = 0;
      run.layers.forEach((layer, l) => {
        const exact = reference.probs[l];
        const ours = layer.data as Float32Array;
        for (let i = 0; i < exact.length; i++) worst = Math.max(worst, Math.abs(ours[i] - exact[i]));
      });
      assert.ok(worst <= 1e-4, `attention off by ${worst}`);
      const ours = softmaxRow(run.lastLogits as Float32Array, 0, fixture.shape.vocab);
      const exact = softmaxRow(reference.logits, ids.length - 1, fixture.shape.vocab);
      let next = 0;
      for (let i = 0; i < exact.length; i++) next = Math.max(next, Math.abs(ours[i] - exact[i]));
      assert.ok(next <= 2e-3, `next off by ${next}`);
    } finally {
      await cache.release();
    }
  });
}
