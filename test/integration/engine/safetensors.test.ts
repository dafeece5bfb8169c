// Hugging Face checkpoints (config.json + safetensors) through the model cache: the same tiny decoders as
// the GGUF fixtures, rewritten in HF's conventions (safetensorsFixtures.ts), compute the same function:
// attention within 1e-4 and the next-token probabilities within 2e-3 of the float64 pass on the weights.
// A bf16 checkpoint on a machine too small for fp32 (the memory figure injected) is quantized to 8-bit blocks
// on load: the graph holds 8-bit MatMulNBits, and it computes the float64 pass on those blocks.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { decodeModel } from '../../../src/engine/graph/onnxGraph';
import { EngineError } from '../../../src/engine/engineError';
import type { LoadedModel } from '../../../src/engine/runtime/loadedModel';
import { ModelCache } from '../../../src/engine/runtime/modelCache';
import { encodeTensor } from '../../helpers/ggufEncoders';
import type { FixtureOptions, GgufFixture } from '../../helpers/ggufFixtures';
import { buildGgufFixture } from '../../helpers/ggufFixtures';
import { ggufReferenceForward, klDivergence, softmaxRow } from '../../helpers/ggufReference';
import type { CheckpointOptions } from '../../helpers/safetensorsFixtures';
import { writeCheckpoint } from '../../helpers/safetensorsFixtures';

let dir = '';
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'safetensors-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const IDS = [3, 40, 41, 200, 201, 17, 18, 250, 40, 41, 60, 61];

/** The largest differences from the float64 pass (attention, next-token probabilities) and the next KL. */
async function offFromReference(
  model: LoadedModel,
  fixture: GgufFixture,
): Promise<{ attention: number; next: number; kl: number }> {
  const run = await model.runTensors(IDS);
  const reference = ggufReferenceForward(fixture, IDS);
  let attention = 0;
  run.layers.forEach((layer, l) => {
    const exact = reference.probs[l];
    const ours = layer.data as Float32Array;
    for (let i = 0; i < exact.length; i++) attention = Math.max(attention, Math.abs(ours[i] - exact[i]));
  });
  const ours = softmaxRow(run.lastLogits as Float32Array, 0, fixture.shape.vocab);
  const exact = softmaxRow(reference.logits, IDS.length - 1, fixture.shape.vocab);
  let next = 0;
  for (let i = 0; i < exact.length; i++) next = Math.max(next, Math.abs(ours[i] - exact[i]));
  return { attention, next, kl: klDivergence(exact, ours) };
}

function newCache(name: string, totalMemory?: number): ModelCache {
  return new ModelCache({
    modelsDir: path.join(dir, 'models'),
    cacheDir: path.join(dir, name),
    ...(totalMemory !== undefined ? { totalMemory: () => totalMemory } : {}),
  });
}

const CASES: [FixtureOptions, CheckpointOptions][] = [
  [{ arch: 'llama', type: 'F32' }, { dtype: 'F32' }],
  [
    { arch: 'qwen2', type: 'BF16', tied: true },
    { dtype: 'BF16', sharded: true },
  ],
  [{ arch: 'qwen3', type: 'F32' }, { dtype: 'F32' }],
  [{ arch: 'gemma3', type: 'F32', slidingWindow: 5 }, { dtype: 'F32' }],
  [{ arch: 'phi3', type: 'F32' }, { dtype: 'F32' }],
];

for (const [fixtureOptions, checkpoint] of CASES) {
  const label = `${fixtureOptions.arch} ${checkpoint.dtype}${checkpoint.sharded ? ' sharded' : ''}`;
  test(`checkpoint ${label}: attention and next match the float64 pass`, async () => {
    const fixture = buildGgufFixture(fixtureOptions);
    const folder = path.join(dir, label.replace(/\W+/g, '-'));
    await writeCheckpoint(fixture, folder, checkpoint);
    const cache = newCache('cache');
    try {
      const model = await cache.get(folder, 'cpu', () => undefined);
      assert.equal(model.origin.format, 'safetensors');
      assert.equal(model.origin.architecture, fixtureOptions.arch);
      assert.equal(model.dtype, checkpoint.dtype === 'BF16' ? 'fp32 (from bf16)' : 'fp32');
      const off = await offFromReference(model, fixture);
      assert.ok(off.attention <= 1e-4, `attention off by ${off.attention}`);
      assert.ok(off.next <= 2e-3, `next off by ${off.next}`);
    } finally {
      await cache.release();
    }
  });
}

/** The fixture with every matrix the loader quantizes (embedding, head, projections) rounded to Q8_0 blocks by
 * the test's own encoder (ggufEncoders.ts): what an 8-bit load should compute. Norms and biases stay float. */
function roundedToQ8(fixture: GgufFixture): GgufFixture {
  const q8 = (m: Float32Array): Float32Array => encodeTensor('Q8_0', m, 32).values;
  const embed = q8(fixture.embed);
  return {
    ...fixture,
    embed,
    output: fixture.options.tied ? embed : q8(fixture.output),
    layers: fixture.layers.map((l) => ({
      ...l,
      wq: q8(l.wq),
      wk: q8(l.wk),
      wv: q8(l.wv),
      wo: q8(l.wo),
      gate: q8(l.gate),
      up: q8(l.up),
      down: q8(l.down),
    })),
  };
}

// Two layouts through the 8-bit path: phi3's fused qkv / gate_up, and qwen2's biases with the tied head.
const EIGHT_BIT: FixtureOptions[] = [
  { arch: 'phi3', type: 'BF16' },
  { arch: 'qwen2', type: 'BF16', tied: true },
];

for (const fixtureOptions of EIGHT_BIT) {
  test(`checkpoint ${fixtureOptions.arch} BF16 on a small machine: quantized to 8 bits on load`, async () => {
    const fixture = buildGgufFixture(fixtureOptions);
    const folder = path.join(dir, `${fixtureOptions.arch}-bf16-q8`);
    await writeCheckpoint(fixture, folder, { dtype: 'BF16' });
    // fp32 weights (about 5 MB here) do not fit in a quarter of 8 MiB.
    const cacheName = `cache-q8-${fixtureOptions.arch}`;
    const cache = newCache(cacheName, 8 * 2 ** 20);
    let off: Awaited<ReturnType<typeof offFromReference>>;
    let onBlocks: typeof off;
    try {
      const model = await cache.get(folder, 'cpu', () => undefined);
      assert.equal(model.dtype, 'q8 (bf16 quantized on load)');
      assert.equal(model.origin.quant, 'q8 (bf16 quantized on load)');
      off = await offFromReference(model, fixture);
      onBlocks = await offFromReference(model, roundedToQ8(fixture));
    } finally {
      await cache.release();
    }

    const entries = await fs.readdir(path.join(dir, cacheName, 'gguf'));
    assert.equal(entries.length, 1);
    const graph = decodeModel(await fs.readFile(path.join(dir, cacheName, 'gguf', entries[0], 'model.onnx'))).graph;
    const nbits = (graph?.node ?? []).filter((n) => n.opType === 'MatMulNBits');
    // Per layer the attention projections, and the head (the MLP matrices are read inside a Loop body).
    assert.ok(nbits.length >= fixture.shape.layers * 2 + 1, `${nbits.length} MatMulNBits`);
    for (const n of nbits) {
      const bits = n.attribute?.find((a) => a.name === 'bits')?.i;
      assert.equal(Number(bits), 8, `${n.name} has ${String(bits)} bits`);
    }
    // Every matrix is 8-bit codes packed [N, K / 32, 32] as UINT8 (ONNX type 2); what stays float (type 1) is
    // the scales (one per 32 weights), norms and rotary tables: far fewer elements than fp32 matrices would be.
    const size = (t: { dims?: (number | bigint)[] | null }): number =>
      (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
    const initializers = graph?.initializer ?? [];
    const packed = initializers.filter((t) => t.dataType === 2 && Number(t.dims?.at(-1)) === 32);
    const floats = initializers.filter((t) => t.dataType === 1).reduce((sum, t) => sum + size(t), 0);
    const weights = packed.reduce((sum, t) => sum + size(t), 0);
    const s = fixture.shape;
    const perLayer =
      s.hidden * (s.heads + 2 * s.kvHeads) * fixture.headDim + s.hidden * s.hidden + 3 * s.hidden * s.intermediate;
    const expected = s.layers * perLayer + s.vocab * s.hidden * (fixture.options.tied ? 1 : 2);
    assert.equal(weights, expected, 'every matrix is held as 8-bit blocks');
    assert.ok(floats < expected / 16, `${floats} float elements beside ${expected} weights`);

    // The graph computes the float64 pass on the 8-bit blocks as closely as fp32 graphs compute theirs (measured:
    // attention 1e-6 to 5e-6, next 3e-7). This is the check with teeth: a stored scale of max / 128 beside codes
    // rounded with max / 127 shrinks every weight by 0.8 % and moves attention by 0.025, far past 1e-4.
    assert.ok(onBlocks.attention <= 1e-4, `attention off the pass on the blocks by ${onBlocks.attention}`);
    assert.ok(onBlocks.next <= 2e-3, `next off the pass on the blocks by ${onBlocks.next}`);
    // Against the original bf16 weights, the distance is the rounding's own effect. Q8_0 moves each weight by at
    // most half a step, max |w| / 254 of its block of 32, so a projection moves by about 0.5 % RMS, and these
    // fixtures' attention scores (tens of units) shift by 0.3 to 0.8 across a row. A softmax probability moves by
    // at most half that spread (Σⱼ |∂pᵢ/∂sⱼ| = 2pᵢ(1 − pᵢ) ≤ ½), so up to 0.4; measured over seeds 7 to 10:
    // 0.04 to 0.12 for attention, next within 9e-3 (KL ≤ 1.2e-3 nats). A 1-in-128 scale error hides in that noise
    // (hence the check above); a scale off by 2× (attention off by 0.98) or every code one step high (0.15 to
    // 0.21) does not.
    assert.ok(off.attention <= 0.15, `attention off the original weights by ${off.attention}`);
    assert.ok(off.next <= 2e-2, `next off the original weights by ${off.next}`);
    assert.ok(off.kl <= 5e-3, `next KL from the original weights ${off.kl}`);
  });
}

test('a phi3 checkpoint with partial rotary is refused with one line', async () => {
  const fixture = buildGgufFixture({ arch: 'phi3', type: 'F32' });
  const folder = path.join(dir, 'phi3-partial-rotary');
  await writeCheckpoint(fixture, folder, { dtype: 'F32', config: { partial_rotary_factor: 0.75 } });
  const cache = newCache('cache');
  try {
    await assert.rejects(
      cache.get(folder, 'cpu', () => undefined),
      (error: unknown) => {
        assert.ok(error instanceof EngineError);
        assert.match(error.message, /partial_rotary_factor/);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      },
    );
  } finally {
    await cache.release();
  }
});
