// The layout of the tapped graph that keeps an inspection's memory and load time near the plain model's
// (attentionStatsGraph.ts): no per-layer probabilities among the graph outputs (onnxruntime holds graph
// outputs to the end of the run), each layer's statistics inside one If (set-up grows with the square of the
// main graph's nodes), and layer l + 1's attention waiting for layer l's statistics through a Where on its
// query input (else every layer's probabilities stay alive until the last layer). Both the Softmax path (the
// tiny Llama export) and a fused GroupQueryAttention export (the builder's q4 style) are checked, and the
// probabilities asked for through the row input still come out exactly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ModelProto, NodeProto } from '../../../../src/engine/graph/onnxGraph';
import { consumersOf, decodeModel, producersOf } from '../../../../src/engine/graph/onnxGraph';
import { ALL_ROWS, PROBABILITY_ROWS_INPUT } from '../../../../src/engine/graph/attentionStatsGraph';
import { prepareTappedModel } from '../../../../src/engine/graph/tapCache';
import { prefillFeeds } from '../../../../src/engine/runtime/prefillFeeds';
import { buildExportGraph } from '../../../helpers/exportStyleGraph';
import { randomDecoder } from '../../../helpers/referenceDecoder';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../../helpers/tinyModel';

let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(() => removeTempDir(dir));

/** Every tensor `tensor` depends on in the main graph (If outputs count as produced by their If). */
function ancestors(nodes: readonly NodeProto[], tensor: string): Set<string> {
  const producers = producersOf(nodes);
  const seen = new Set<string>();
  const stack = [tensor];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const at = producers.get(name);
    if (at !== undefined) stack.push(...(nodes[at].input ?? []).filter(Boolean));
  }
  return seen;
}

function checkLayout(model: ModelProto, taps: readonly string[], statsOutputs: readonly string[][]): void {
  const graph = model.graph ?? {};
  const nodes = graph.node ?? [];
  const outputs = new Set((graph.output ?? []).map((o) => o.name));
  for (const tap of taps) assert.ok(!outputs.has(tap), `${tap} must not be a graph output`);
  const statsTopLevel = nodes.filter((n) => (n.name ?? '').startsWith('pa_stats'));
  assert.equal(statsTopLevel.filter((n) => n.opType === 'If').length, taps.length, 'one If per layer');
  const heavy = statsTopLevel.filter((n) =>
    ['MatMul', 'TopK', 'ReduceMax', 'QuantizeLinear', 'GatherElements', 'Log', 'EyeLike'].includes(n.opType ?? ''),
  );
  assert.deepEqual(
    heavy.map((n) => n.name),
    [],
    "the statistics' work is inside the Ifs; only shape arithmetic is lifted out",
  );
  // Of the statistics, only Shape reads the probabilities in the main graph (through a Cast to float); the
  // layer's If reads them from inside, as an outer-scope value.
  const consumers = consumersOf(nodes);
  const readers = (tensor: string): string[] =>
    (consumers.get(tensor) ?? [])
      .filter((i) => (nodes[i].name ?? '').startsWith('pa_stats'))
      .flatMap((i) => (nodes[i].opType === 'Cast' ? readers(nodes[i].output?.[0] ?? '') : [nodes[i].opType ?? '']));
  for (const tap of taps)
    assert.deepEqual([...new Set(readers(tap))], ['Shape'], `${tap} is read in the main graph by Shape alone`);
  const producers = producersOf(nodes);
  for (let l = 1; l < taps.length; l++) {
    // Layer l's probabilities depend on one of layer l − 1's statistics outputs, through a Where.
    const before = ancestors(nodes, taps[l]);
    assert.ok(
      statsOutputs[l - 1].some((o) => before.has(o)),
      `layer ${l}'s attention waits for layer ${l - 1}'s statistics`,
    );
    const wheres = [...before]
      .map((t) => producers.get(t))
      .filter(
        (i): i is number =>
          i !== undefined && nodes[i].opType === 'Where' && (nodes[i].name ?? '').startsWith('pa_stats'),
      );
    assert.ok(wheres.length > 0, `a Where of the statistics sits upstream of layer ${l}'s attention`);
  }
}

test('Softmax path: probabilities are not graph outputs, statistics sit in one If per layer, each layer waits for the last', async () => {
  const tiny = await writeTinyModel(path.join(dir, 'llama'), { layers: 3 });
  const tapped = await prepareTappedModel(path.join(tiny.folder, 'onnx', 'model.onnx'), 3, path.join(dir, 'cache'));
  const model = decodeModel(await fs.readFile(tapped.modelPath));
  checkLayout(
    model,
    tapped.plan.outputNames,
    tapped.stats.layers.map((l) => [l.heads.scale, l.heads.weights, l.received]),
  );
});

test('GroupQueryAttention (q4 builder style): the same layout, and the rows input gives all the probabilities or none', async () => {
  const shape = { vocabSize: 64, hidden: 64, layers: 3, heads: 4, kvHeads: 2, intermediate: 96, maxPositions: 64 };
  const folder = path.join(dir, 'gqa');
  await fs.mkdir(folder, { recursive: true });
  await fs.writeFile(
    path.join(folder, 'model.onnx'),
    buildExportGraph(randomDecoder(shape, 4), { style: 'gqa', q4: true }),
  );
  const tapped = await prepareTappedModel(path.join(folder, 'model.onnx'), 3, path.join(dir, 'cache'));
  const model = decodeModel(await fs.readFile(tapped.modelPath));
  checkLayout(
    model,
    tapped.plan.outputNames,
    tapped.stats.layers.map((l) => [l.heads.scale, l.heads.weights, l.received]),
  );

  const session = await ort.InferenceSession.create(tapped.modelPath);
  try {
    const ids = [3, 9, 27, 17, 5, 42, 8];
    const feeds = prefillFeeds(ort, tapped.inputs, ids, { kvHeads: 2, headDim: 16, metadata: session.inputMetadata });
    const rows = (count: number): ort.Tensor => new ort.Tensor('int64', BigInt64Array.of(BigInt(count)), [1]);
    const none = await session.run({ ...feeds, [PROBABILITY_ROWS_INPUT]: rows(0) }, [...tapped.stats.probabilities]);
    const all = await session.run({ ...feeds, [PROBABILITY_ROWS_INPUT]: rows(ALL_ROWS) }, [
      ...tapped.stats.probabilities,
    ]);
    for (const name of tapped.stats.probabilities) {
      assert.deepEqual(none[name].dims, [1, 4, 0, ids.length], 'no rows asked for: an empty tensor');
      assert.deepEqual(all[name].dims, [1, 4, ids.length, ids.length]);
      const data = all[name].data as Float32Array;
      for (let r = 0; r < 4 * ids.length; r++) {
        let sum = 0;
        for (let j = 0; j < ids.length; j++) sum += data[r * ids.length + j];
        assert.ok(Math.abs(sum - 1) < 1e-5, `row ${r} of the probabilities sums to ${sum}`);
      }
    }
  } finally {
    await session.release();
  }
});
