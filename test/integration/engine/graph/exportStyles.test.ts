// Fused attention, merged If decoders, fp16 and q4 exports: the probabilities the tap exposes equal a
// float64 forward pass from the same weights, and the tap leaves the logits as they were.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { planAttentionTap } from '../../../../src/engine/graph/attentionTap';
import { decodeModel, encodeModel, valueElemType, valueShape } from '../../../../src/engine/graph/onnxGraph';
import { prepareTappedModel } from '../../../../src/engine/graph/tapCache';
import { ALL_ROWS, PROBABILITY_ROWS_INPUT } from '../../../../src/engine/graph/attentionStatsGraph';
import { createSession } from '../../../../src/engine/runtime/executionProviders';
import { prefillFeeds } from '../../../../src/engine/runtime/prefillFeeds';
import type { ExportOptions } from '../../../helpers/exportStyleGraph';
import {
  buildExportGraph,
  externalizeWeights,
  effectiveWeights,
  EXPORT_TEST_HEAD_DIM as HD,
  EXPORT_TEST_IDS as IDS,
  EXPORT_TEST_SHAPE as SHAPE,
} from '../../../helpers/exportStyleGraph';
import { fromHalfBits, maxAbsDiff, randomDecoder, referenceForward } from '../../../helpers/referenceDecoder';
import { makeTempDir, removeTempDir } from '../../../helpers/tinyModel';

const N = IDS.length;

let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(() => removeTempDir(dir));

function floats(t: ort.Tensor): ArrayLike<number> {
  return t.type === 'float16' ? Array.from(t.data as Uint16Array, fromHalfBits) : (t.data as Float32Array);
}

function feedsFor(
  session: ort.InferenceSession,
  model: ReturnType<typeof decodeModel>,
  kvHeads: number,
): Record<string, ort.Tensor> {
  const initializers = new Set((model.graph?.initializer ?? []).map((t) => t.name));
  const inputs = (model.graph?.input ?? [])
    .filter((i) => !initializers.has(i.name))
    .map((i) => ({ name: i.name ?? '', elemType: valueElemType(i), shape: valueShape(i) }));
  return prefillFeeds(ort, inputs, IDS, { kvHeads, headDim: HD, metadata: session.inputMetadata });
}

function checkAgainstReference(probs: ort.Tensor, reference: Float64Array, tolerance: number, heads: number): void {
  assert.equal(probs.type, 'float32', 'probabilities leave the graph as float32');
  assert.deepEqual(probs.dims, [1, heads, N, N]);
  const data = probs.data as Float32Array;
  assert.ok(maxAbsDiff(data, reference) < tolerance, `max |Δp| ${maxAbsDiff(data, reference)} ≥ ${tolerance}`);
  for (let r = 0; r < heads * N; r++) {
    let sum = 0;
    for (let j = 0; j < N; j++) sum += data[r * N + j];
    assert.ok(Math.abs(sum - 1) < tolerance, `row ${r} sums to ${sum}`);
    for (let j = (r % N) + 1; j < N; j++) assert.ok(data[r * N + j] < 1e-6, 'causal');
  }
}

const CASES: { label: string; o: ExportOptions; kvHeads: number; tolerance: number; cpuOnly: boolean }[] = [
  {
    label: 'builder-style GroupQueryAttention (packed QKV, do_rotary, seqlens_k from the mask, no position_ids)',
    o: { style: 'gqa' },
    kvHeads: 2,
    tolerance: 1e-4,
    cpuOnly: true,
  },
  {
    label: 'builder-style GQA with q4 MatMulNBits projections',
    o: { style: 'gqa', q4: true },
    kvHeads: 2,
    tolerance: 1e-4,
    cpuOnly: true,
  },
  {
    label: 'builder-style GQA in fp16 (q4f16 without the 4 bits)',
    o: { style: 'gqa', fp16: true },
    kvHeads: 2,
    tolerance: 5e-3,
    cpuOnly: true,
  },
  {
    label: 'com.microsoft.MultiHeadAttention (unidirectional)',
    o: { style: 'mha' },
    kvHeads: 4,
    tolerance: 1e-4,
    cpuOnly: false,
  },
  {
    label: 'com.microsoft.MultiHeadAttention with the causal mask as attention_bias (not in its qk output)',
    o: { style: 'mha', biasLength: N },
    kvHeads: 4,
    tolerance: 1e-4,
    cpuOnly: false,
  },
  {
    label: 'ai.onnx Attention (opset 23, is_causal, grouped KV heads)',
    o: { style: 'attention23' },
    kvHeads: 2,
    tolerance: 1e-4,
    cpuOnly: false,
  },
  {
    label: "optimum's legacy merged decoder (Softmax inside the If branches)",
    o: { style: 'torch', merged: true },
    kvHeads: 2,
    tolerance: 1e-4,
    cpuOnly: false,
  },
  {
    label: 'torch-style fp16 export (transformers.js model_fp16.onnx)',
    o: { style: 'torch', fp16: true },
    kvHeads: 2,
    tolerance: 5e-3,
    cpuOnly: false,
  },
];

for (const c of CASES) {
  test(`${c.label}: tapped probabilities equal a float64 forward pass; logits unchanged`, async () => {
    const weights = randomDecoder({ ...SHAPE, kvHeads: c.kvHeads });
    const bytes = buildExportGraph(weights, c.o);
    const reference = referenceForward(effectiveWeights(weights, c.o), IDS);
    const model = decodeModel(bytes);
    const plan = planAttentionTap(model, SHAPE.layers, 'fixture.onnx');
    assert.equal(plan.kind, 'tapped');
    assert.equal(plan.outputNames.length, SHAPE.layers);
    assert.equal(plan.cpuOnly !== undefined, c.cpuOnly, `cpuOnly: ${plan.cpuOnly}`);
    const untapped = await ort.InferenceSession.create(bytes);
    const tapped = await ort.InferenceSession.create(encodeModel(model));
    try {
      const feeds = feedsFor(tapped, model, c.kvHeads);
      assert.equal('position_ids' in feeds, c.o.style !== 'gqa', 'position_ids only where the graph has them');
      assert.equal('use_cache_branch' in feeds, c.o.merged === true);
      const past = feeds['past_key_values.1.value'];
      assert.deepEqual([past.type, past.dims], [c.o.fp16 ? 'float16' : 'float32', [1, c.kvHeads, 0, HD]]);
      const before_ = await untapped.run(feeds);
      const out = await tapped.run(feeds);
      plan.outputNames.forEach((name, l) =>
        checkAgainstReference(out[name], reference.probs[l], c.tolerance, SHAPE.heads),
      );
      // qk_output picks another kernel path: the same numbers up to float32 rounding.
      assert.ok(
        maxAbsDiff(floats(out.logits), floats(before_.logits)) < 1e-5,
        `the tap changed the logits by ${maxAbsDiff(floats(out.logits), floats(before_.logits))}`,
      );
      assert.ok(
        maxAbsDiff(floats(out.logits), reference.logits) < (c.o.fp16 ? 2e-2 : 1e-4),
        `logits vs reference: ${maxAbsDiff(floats(out.logits), reference.logits)}`,
      );
      assert.deepEqual(out['present.0.key'].dims, [1, c.kvHeads, N, HD], 'present outputs kept');
    } finally {
      await untapped.release();
      await tapped.release();
    }
  });
}

const EXTERNAL: { label: string; name: (i: number) => string }[] = [
  { label: '<file>_data (optimum / transformers.js)', name: () => 'model.onnx_data' },
  { label: '<file>.data (onnxruntime-genai builder)', name: () => 'model.onnx.data' },
  { label: 'several chunks', name: (i) => (i === 0 ? 'model.onnx_data' : `model.onnx_data_${1 + (i % 2)}`) },
];

for (const e of EXTERNAL) {
  test(`external data as ${e.label}: the tapped graph loads its weights and reads the right attention`, async () => {
    const weights = randomDecoder(SHAPE, 9);
    const { model, files } = externalizeWeights(buildExportGraph(weights, { style: 'gqa' }), e.name);
    const folder = path.join(dir, `external-${EXTERNAL.indexOf(e)}`);
    await fs.mkdir(folder, { recursive: true });
    await fs.writeFile(path.join(folder, 'model.onnx'), model);
    for (const [file, data] of files) await fs.writeFile(path.join(folder, file), data);
    assert.equal(files.size, e.label === 'several chunks' ? 3 : 1);
    const tapped = await prepareTappedModel(path.join(folder, 'model.onnx'), SHAPE.layers, path.join(dir, 'cache'));
    const session = await ort.InferenceSession.create(tapped.modelPath);
    try {
      const feeds = prefillFeeds(ort, tapped.inputs, IDS, { kvHeads: 2, headDim: HD, metadata: session.inputMetadata });
      feeds[PROBABILITY_ROWS_INPUT] = new ort.Tensor('int64', BigInt64Array.of(BigInt(ALL_ROWS)), [1]);
      const out = await session.run(feeds, [...tapped.stats.probabilities]);
      const reference = referenceForward(weights, IDS);
      tapped.stats.probabilities.forEach((name, l) =>
        checkAgainstReference(out[name], reference.probs[l], 1e-4, SHAPE.heads),
      );
    } finally {
      await session.release();
    }
  });
}

test('a graph whose probabilities exist only on CPU runs there when a GPU was asked for, and says why in one line', async () => {
  const plan = planAttentionTap(
    decodeModel(buildExportGraph(randomDecoder(SHAPE), { style: 'gqa' })),
    SHAPE.layers,
    'gqa.onnx',
  );
  const tried: string[][] = [];
  const fake = { release: async () => undefined } as unknown as ort.InferenceSession;
  const options = {
    bundled: ['cpu', 'webgpu', 'cuda'],
    known: ['cpu', 'webgpu', 'cuda'],
    preflight: () => null,
    cpuOnlyReason: plan.cpuOnly,
    create: async (_path: string, o: ort.InferenceSession.SessionOptions) => {
      tried.push(o.executionProviders as string[]);
      return fake;
    },
  };
  const result = await createSession('model.onnx', 'webgpu', options);
  assert.deepEqual(tried, [['cpu']], 'no GPU attempt');
  assert.equal(result.provider, 'cpu');
  assert.match(
    result.fallbackReason ?? '',
    /^GroupQueryAttention gives its attention probabilities only on the CPU kernel.*; ran on CPU\.$/,
  );
  assert.ok(!(result.fallbackReason ?? '').includes('\n'));
  // Without the constraint the same request tries the GPU first.
  tried.length = 0;
  await createSession('model.onnx', 'webgpu', { ...options, cpuOnlyReason: undefined });
  assert.deepEqual(tried[0], ['webgpu', 'cpu']);
});
