// The logits' rows only (logitsTail.ts): after the LM head's input is sliced to the last K positions, the last
// layer's output projection, MLP, residual sums and final norm run on those K rows; the logits still equal the
// float64 forward pass's last rows, and the whole-row nodes are gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { LOGITS_KEEP_INPUT, sliceLogitsInput } from '../../../../src/engine/graph/logitsSlice';
import { sliceRowWiseTail } from '../../../../src/engine/graph/logitsTail';
import { decodeModel, encodeModel } from '../../../../src/engine/graph/onnxGraph';
import type { ModelProto } from '../../../../src/engine/graph/onnxGraph';
import type { ExportOptions } from '../../../helpers/exportStyleGraph';
import {
  buildExportGraph,
  effectiveWeights,
  exportTestFeeds,
  EXPORT_TEST_IDS as IDS,
  EXPORT_TEST_SHAPE as SHAPE,
} from '../../../helpers/exportStyleGraph';
import { maxAbsDiff, randomDecoder, referenceForward } from '../../../helpers/referenceDecoder';

async function lastLogits(model: ModelProto, keep: number): Promise<Float32Array> {
  const bytes = encodeModel(model);
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds = exportTestFeeds(ort, model, session, IDS, [LOGITS_KEEP_INPUT]);
    feeds[LOGITS_KEEP_INPUT] = new ort.Tensor('int64', BigInt64Array.of(BigInt(-keep)), [1]);
    const out = await session.run(feeds, ['logits']);
    assert.deepEqual(out.logits.dims, [1, keep, SHAPE.vocabSize]);
    return out.logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

for (const o of [{ style: 'gqa', q4: true }, { style: 'torch' }] as ExportOptions[]) {
  test(`${o.style}${o.q4 ? ' q4' : ''}: the last layer's tail runs on the kept rows, logits equal the float64 pass`, async () => {
    const weights = randomDecoder(SHAPE, 17);
    const sliced = decodeModel(buildExportGraph(weights, o));
    assert.ok(sliceLogitsInput(sliced));
    const tail = decodeModel(encodeModel(sliced));
    const moved = sliceRowWiseTail(tail, LOGITS_KEEP_INPUT);
    const before = (sliced.graph?.node ?? []).filter((n) => /MatMul/.test(n.opType ?? '')).length;
    const after = (tail.graph?.node ?? []).filter(
      (n) => /MatMul/.test(n.opType ?? '') && !/\/tail$/.test(n.name ?? ''),
    ).length;
    if (o.style === 'gqa') {
      // Final norm, residual sum, down projection, product, activation (2), up and gate projections, the
      // post-attention norm, the residual sum before it and the output projection.
      assert.ok(moved >= 10, `${moved} nodes moved`);
      assert.ok(after < before - 3, 'the last layer’s whole-row projections are gone');
    } else {
      // torch's RMSNorm is spelled out with a ReduceMean, which the pass does not take: it stops there.
      assert.ok(moved > 0 && after === before, `${moved} nodes moved`);
    }
    const reference = referenceForward(effectiveWeights(weights, o), IDS);
    for (const keep of [1, 3]) {
      const rows = await lastLogits(tail, keep);
      const expected = reference.logits.subarray((IDS.length - keep) * SHAPE.vocabSize);
      assert.ok(maxAbsDiff(rows, expected) < 1e-4, `keep ${keep}: ${maxAbsDiff(rows, expected)}`);
      const whole = await lastLogits(sliced, keep);
      assert.ok(maxAbsDiff(rows, whole) < 1e-5, `keep ${keep} vs whole rows: ${maxAbsDiff(rows, whole)}`);
    }
  });
}
