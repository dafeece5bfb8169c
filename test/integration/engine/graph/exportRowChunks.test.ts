// An export's MLP run in row chunks (exportRowChunks.ts): on inputs longer than a chunk (padded last chunk
// included) the logits equal the float64 forward pass and the unchunked graph's; the tapped graph's
// statistics, probabilities and kept Q and K are those of the unchunked tapped graph; regions the pass does
// not recognise are left as they are.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { chunkExportMlps } from '../../../../src/engine/graph/exportRowChunks';
import { decodeModel, encodeModel } from '../../../../src/engine/graph/onnxGraph';
import { prepareTappedModel } from '../../../../src/engine/graph/tapCache';
import { ALL_ROWS, PROBABILITY_ROWS_INPUT } from '../../../../src/engine/graph/attentionStatsGraph';
import { prefillFeeds } from '../../../../src/engine/runtime/prefillFeeds';
import type { ExportOptions } from '../../../helpers/exportStyleGraph';
import {
  buildExportGraph,
  effectiveWeights,
  exportTestFeeds,
  EXPORT_TEST_HEAD_DIM as HD,
  EXPORT_TEST_IDS as IDS,
  EXPORT_TEST_SHAPE as SHAPE,
} from '../../../helpers/exportStyleGraph';
import { fromHalfBits, maxAbsDiff, randomDecoder, referenceForward } from '../../../helpers/referenceDecoder';
import { makeTempDir, removeTempDir } from '../../../helpers/tinyModel';

const ATTENTION = { heads: SHAPE.heads, kvHeads: SHAPE.kvHeads, headDim: HD };
/** 11 tokens in chunks of 4: three trips, the last padded by one row. */
const ROWS = 4;

let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(() => removeTempDir(dir));

function floats(t: ort.Tensor): Float64Array {
  return Float64Array.from(
    t.type === 'float16' ? Array.from(t.data as Uint16Array, fromHalfBits) : (t.data as Float32Array),
  );
}

async function logitsOf(bytes: Uint8Array, ids: readonly number[]): Promise<Float64Array> {
  const model = decodeModel(bytes);
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds = exportTestFeeds(ort, model, session, ids);
    return floats((await session.run(feeds, ['logits'])).logits);
  } finally {
    await session.release();
  }
}

const CASES: { label: string; o: ExportOptions; tolerance: number }[] = [
  { label: 'builder-style GQA, q4 MatMulNBits', o: { style: 'gqa', q4: true }, tolerance: 1e-4 },
  { label: 'builder-style GQA, fp32 MatMul', o: { style: 'gqa' }, tolerance: 1e-4 },
  { label: 'torch-style fp16', o: { style: 'torch', fp16: true }, tolerance: 2e-2 },
];

for (const c of CASES) {
  test(`${c.label}: the MLP in chunks of ${ROWS} rows gives the float64 pass's logits, and the unchunked graph's`, async () => {
    const weights = randomDecoder(SHAPE, 13);
    const bytes = buildExportGraph(weights, c.o);
    const model = decodeModel(bytes);
    assert.equal(chunkExportMlps(model, ROWS), SHAPE.layers, 'one region per layer');
    const loops = (model.graph?.node ?? []).filter((n) => n.opType === 'Loop');
    assert.equal(loops.length, SHAPE.layers);
    const chunked = encodeModel(model);
    for (const ids of [IDS, IDS.slice(0, 3)]) {
      const reference = referenceForward(effectiveWeights(weights, c.o), ids);
      const whole = await logitsOf(bytes, ids);
      const rows = await logitsOf(chunked, ids);
      assert.equal(rows.length, ids.length * SHAPE.vocabSize);
      assert.ok(maxAbsDiff(rows, reference.logits) < c.tolerance, `vs float64: ${maxAbsDiff(rows, reference.logits)}`);
      // fp16: a chunk's MatMul may round differently, by about an fp16 ulp of the logits (0.002 at 2–4).
      assert.ok(maxAbsDiff(rows, whole) < (c.o.fp16 ? 5e-3 : 1e-5), `vs unchunked: ${maxAbsDiff(rows, whole)}`);
    }
  });
}

test('a region with a tensor read outside it (here a graph output) is left whole; the others are chunked', async () => {
  const weights = randomDecoder(SHAPE, 14);
  const bytes = buildExportGraph(weights, { style: 'gqa', q4: true });
  const model = decodeModel(bytes);
  const graph = model.graph as onnx.IGraphProto;
  // Layer 0's activation (the Sigmoid's output) also leaves the graph.
  const sigmoid = (graph.node ?? []).find((n) => n.opType === 'Sigmoid');
  assert.ok(sigmoid?.output?.[0]);
  graph.output = [...(graph.output ?? []), onnx.ValueInfoProto.create({ name: sigmoid.output[0] })];
  assert.equal(chunkExportMlps(model, ROWS), SHAPE.layers - 1);
  assert.ok((model.graph?.node ?? []).includes(sigmoid), 'layer 0 unchanged');
  const reference = referenceForward(effectiveWeights(weights, { style: 'gqa', q4: true }), IDS);
  const rows = await logitsOf(encodeModel(model), IDS);
  assert.ok(maxAbsDiff(rows, reference.logits) < 1e-4);
  // A graph below opset 13 is not rewritten at all.
  const old = decodeModel(bytes);
  old.opsetImport = (old.opsetImport ?? []).map((o) => (o.domain ? o : { ...o, version: 12 }));
  assert.equal(chunkExportMlps(old, ROWS), 0);
  assert.equal(old.graph?.node?.length, decodeModel(bytes).graph?.node?.length);
});

test('the tapped graph with chunked MLPs: statistics, probabilities and kept Q and K equal the unchunked ones', async () => {
  const weights = randomDecoder(SHAPE, 15);
  const o: ExportOptions = { style: 'gqa', q4: true };
  const folder = path.join(dir, 'tapped');
  await fs.mkdir(folder, { recursive: true });
  const file = path.join(folder, 'model_q4.onnx');
  await fs.writeFile(file, buildExportGraph(weights, o));
  const run = async (mlpRows: number): Promise<{ out: ort.InferenceSession.OnnxValueMapType; names: string[] }> => {
    const tapped = await prepareTappedModel(file, SHAPE.layers, path.join(dir, `cache-${mlpRows}`), {
      attention: ATTENTION,
      mlpRows,
    });
    const graph = decodeModel(await fs.readFile(tapped.modelPath));
    const loops = (graph.graph?.node ?? []).filter((n) => n.opType === 'Loop' && (n.name ?? '').startsWith('pa_mlp'));
    // The tapped graph keeps the MLPs that feed a later layer's attention (the last layer's only with logits).
    assert.equal(loops.length > 0, mlpRows > 0, `${loops.length} chunked MLPs with rows ${mlpRows}`);
    const session = await ort.InferenceSession.create(tapped.modelPath);
    try {
      const feeds = prefillFeeds(ort, tapped.inputs, IDS, { kvHeads: 2, headDim: HD, metadata: session.inputMetadata });
      feeds[PROBABILITY_ROWS_INPUT] = new ort.Tensor('int64', BigInt64Array.of(BigInt(ALL_ROWS)), [1]);
      const names = [
        ...tapped.stats.probabilities,
        ...tapped.stats.layers.map((l) => l.received),
        ...(tapped.sites ?? []).flatMap((s) => [s.q, s.k]),
      ];
      return { out: await session.run(feeds, names), names };
    } finally {
      await session.release();
    }
  };
  const whole = await run(0);
  const rows = await run(ROWS);
  const reference = referenceForward(effectiveWeights(weights, o), IDS);
  for (let l = 0; l < SHAPE.layers; l++) {
    const probs = floats(rows.out[rows.names[l]] as ort.Tensor);
    assert.ok(maxAbsDiff(probs, reference.probs[l]) < 1e-4, `layer ${l} probabilities vs float64`);
  }
  assert.equal(whole.names.length, rows.names.length);
  whole.names.forEach((name, i) => {
    const a = floats(whole.out[name] as ort.Tensor);
    const b = floats(rows.out[rows.names[i]] as ort.Tensor);
    assert.equal(a.length, b.length, name);
    assert.ok(maxAbsDiff(a, b) < 1e-5, `${name}: ${maxAbsDiff(a, b)}`);
  });
});
