import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { AttentionTapError, planAttentionTap } from '../../../../src/engine/graph/attentionTap';
import { decodeModel, encodeModel } from '../../../../src/engine/graph/onnxGraph';
import { buildGpt2Graph, GPT2_MASK_VALUE } from '../../../helpers/gpt2Graph';
import { buildLlamaGraph, LLAMA_MASK_VALUE } from '../../../helpers/llamaGraph';

const N = 9;
const IDS = [3, 17, 5, 42, 8, 17, 5, 42, 1];

function feeds(withPositions: boolean): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(IDS.map(BigInt)), [1, N]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(N).fill(1n), [1, N]),
  };
  if (withPositions)
    out.position_ids = new ort.Tensor('int64', BigInt64Array.from(IDS.map((_, i) => BigInt(i))), [1, N]);
  return out;
}

/** softmax(q·kᵀ/√d + causal mask) per head, computed in plain JS in float64. */
function referenceAttention(
  q: Float32Array,
  k: Float32Array,
  heads: number,
  n: number,
  d: number,
  kTransposed: boolean,
  maskValue: number,
): Float64Array {
  const out = new Float64Array(heads * n * n);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      const scores = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let c = 0; c < d; c++) {
          const kv = kTransposed ? k[h * d * n + c * n + j] : k[h * n * d + j * d + c];
          dot += q[h * n * d + i * d + c] * kv;
        }
        scores[j] = j > i ? maskValue : dot / Math.sqrt(d);
      }
      const max = Math.max(...scores);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += scores[j] = Math.exp(scores[j] - max);
      for (let j = 0; j < n; j++) out[h * n * n + i * n + j] = scores[j] / sum;
    }
  }
  return out;
}

function checkProbabilities(probs: Float32Array, reference: Float64Array, heads: number, n: number): void {
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const p = probs[h * n * n + i * n + j];
        sum += p;
        if (j > i) assert.ok(p < 1e-7, `causal: head ${h} query ${i} key ${j} has ${p}`);
        assert.ok(
          Math.abs(p - reference[h * n * n + i * n + j]) < 1e-5,
          `head ${h} [${i}][${j}]: ${p} vs ${reference[h * n * n + i * n + j]}`,
        );
      }
      assert.ok(Math.abs(sum - 1) < 1e-5, `row ${i} of head ${h} sums to ${sum}`);
    }
  }
}

test('GPT-2 style graph (fused QKV Gemm + Split): taps every layer and matches an independent recomputation', async () => {
  const layers = 3;
  const heads = 4;
  const hidden = 32;
  const model = decodeModel(buildGpt2Graph({ vocabSize: 64, hidden, layers, heads, maxPositions: 32, exposeQK: true }));
  const plan = planAttentionTap(model, layers, 'gpt2.onnx');
  assert.equal(plan.kind, 'tapped');
  assert.deepEqual(
    plan.outputNames,
    [0, 1, 2].map((l) => `/transformer/h.${l}/attn/Softmax_out0`),
  );
  const session = await ort.InferenceSession.create(encodeModel(model));
  const out = await session.run(feeds(false));
  for (let l = 0; l < layers; l++) {
    const probs: ort.Tensor = out[plan.outputNames[l]];
    assert.deepEqual(probs.dims, [1, heads, N, N]);
    const q = out[`q.${l}`].data as Float32Array;
    const kT = out[`kT.${l}`].data as Float32Array;
    checkProbabilities(
      probs.data as Float32Array,
      referenceAttention(q, kT, heads, N, hidden / heads, true, GPT2_MASK_VALUE),
      heads,
      N,
    );
  }
  await session.release();
});

test('Llama style graph with grouped-query attention (2 KV heads repeated to 4): tapped attention is exact', async () => {
  const layers = 2;
  const heads = 4;
  const hidden = 32;
  const model = decodeModel(
    buildLlamaGraph({
      vocabSize: 64,
      hidden,
      layers,
      heads,
      kvHeads: 2,
      intermediate: 48,
      maxPositions: 32,
      exposeQK: true,
    }),
  );
  const plan = planAttentionTap(model, layers, 'llama.onnx');
  assert.deepEqual(
    plan.outputNames,
    [0, 1].map((l) => `/model/layers.${l}/self_attn/Softmax_out0`),
  );
  const session = await ort.InferenceSession.create(encodeModel(model));
  const out = await session.run(feeds(true));
  const d = hidden / heads;
  for (let l = 0; l < layers; l++) {
    const k = out[`k.${l}`].data as Float32Array;
    // repeat_kv: query heads 0 and 1 share KV head 0, so their keys are identical.
    assert.deepEqual(k.subarray(0, N * d), k.subarray(N * d, 2 * N * d));
    const probs: ort.Tensor = out[plan.outputNames[l]];
    assert.deepEqual(probs.dims, [1, heads, N, N]);
    checkProbabilities(
      probs.data as Float32Array,
      referenceAttention(out[`q.${l}`].data as Float32Array, k, heads, N, d, false, LLAMA_MASK_VALUE),
      heads,
      N,
    );
  }
  await session.release();
});

test('a graph that already outputs attentions is used as is', () => {
  const model = decodeModel(
    buildGpt2Graph({ vocabSize: 32, hidden: 16, layers: 2, heads: 2, maxPositions: 16, outputAttentions: true }),
  );
  const plan = planAttentionTap(model, 2, 'with-attentions.onnx');
  assert.equal(plan.kind, 'existing');
  assert.deepEqual(plan.outputNames, ['attentions.0', 'attentions.1']);
});

test('a fused attention operator that cannot give its probabilities gets a clear error naming it', () => {
  const model = decodeModel(
    buildLlamaGraph({
      vocabSize: 32,
      hidden: 16,
      layers: 2,
      heads: 4,
      kvHeads: 2,
      intermediate: 16,
      maxPositions: 16,
      fused: true,
    }),
  );
  // com.microsoft.Attention (the BERT-style fused op) never holds the probabilities as a tensor.
  assert.throws(
    () => planAttentionTap(model, 2, 'fused.onnx'),
    (error: unknown) =>
      error instanceof AttentionTapError &&
      error.message.includes('com.microsoft.Attention') &&
      error.message.includes('export the model without attention fusion') &&
      !error.message.includes('\n'),
  );
});

test('a tap count that differs from config.json layers is an error', () => {
  const model = decodeModel(
    buildLlamaGraph({ vocabSize: 32, hidden: 16, layers: 2, heads: 4, kvHeads: 2, intermediate: 16, maxPositions: 16 }),
  );
  assert.throws(
    () => planAttentionTap(model, 3, 'model.onnx'),
    /2 attention Softmax nodes but config.json says 3 layers/,
  );
});
