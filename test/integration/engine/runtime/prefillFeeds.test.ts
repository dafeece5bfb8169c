// Prefill feeds built from the graph's own inputs (position_ids only when present, use_cache_branch,
// num_logits_to_keep, empty past tensors shaped by the session metadata), and a one-line refusal otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { ElemType } from '../../../../src/engine/graph/onnxGraph';
import { emptyPastDims, prefillFeeds } from '../../../../src/engine/runtime/prefillFeeds';

const IDS = [5, 6, 7];

test('feeds follow the graph: no position_ids when absent, use_cache_branch false, num_logits_to_keep 0, int32 ids when asked', () => {
  const inputs = [
    { name: 'input_ids', elemType: ElemType.INT32, shape: ['batch', 'seq'] },
    { name: 'attention_mask', elemType: ElemType.INT64, shape: ['batch', 'total'] },
    { name: 'use_cache_branch', elemType: ElemType.BOOL, shape: [1] },
    { name: 'num_logits_to_keep', elemType: ElemType.INT64, shape: [] },
  ];
  const feeds = prefillFeeds(ort, inputs, IDS, { kvHeads: 2, headDim: 8 });
  assert.deepEqual(Object.keys(feeds), ['input_ids', 'attention_mask', 'use_cache_branch', 'num_logits_to_keep']);
  assert.deepEqual([feeds.input_ids.type, Array.from(feeds.input_ids.data as Int32Array)], ['int32', IDS]);
  assert.deepEqual(Array.from(feeds.attention_mask.data as BigInt64Array), [1n, 1n, 1n]);
  assert.deepEqual(
    [feeds.use_cache_branch.type, Array.from(feeds.use_cache_branch.data as Uint8Array), feeds.use_cache_branch.dims],
    ['bool', [0], [1]],
  );
  assert.deepEqual(
    [feeds.num_logits_to_keep.dims, Array.from(feeds.num_logits_to_keep.data as BigInt64Array)],
    [[], [0n]],
  );
});

test('empty past tensors take dtype and fixed dims from the session metadata over the graph and config.json', () => {
  const inputs = [{ name: 'past_key_values.0.key', elemType: ElemType.FLOAT, shape: ['batch', 'kv', 'past', 'hd'] }];
  const metadata = [
    {
      name: 'past_key_values.0.key',
      isTensor: true,
      type: 'float16',
      shape: ['batch_size', 3, 'past_sequence_length', 64],
    },
  ] as unknown as ort.InferenceSession.ValueMetadata[];
  const withMeta = prefillFeeds(ort, inputs, IDS, { kvHeads: 2, headDim: 8, metadata })['past_key_values.0.key'];
  assert.deepEqual([withMeta.type, withMeta.dims], ['float16', [1, 3, 0, 64]]);
  const fromConfig = prefillFeeds(ort, inputs, IDS, { kvHeads: 2, headDim: 8 })['past_key_values.0.key'];
  assert.deepEqual([fromConfig.type, fromConfig.dims], ['float32', [1, 2, 0, 8]]);
});

test('older cache layouts: GPT-2 past.N [2, batch, heads, past, head_dim], past_key_N', () => {
  assert.deepEqual(emptyPastDims([2, 'batch', 12, 'past_seq_len', 64], 12, 64), [2, 1, 12, 0, 64]);
  assert.deepEqual(emptyPastDims(null, 4, 16), [1, 4, 0, 16]);
  const feeds = prefillFeeds(
    ort,
    [
      { name: 'past.0', elemType: ElemType.FLOAT, shape: [2, 'batch', 4, 'past', 16] },
      { name: 'past_key_0', elemType: ElemType.FLOAT, shape: ['b', 4, 'p', 16] },
    ],
    IDS,
    { kvHeads: 4, headDim: 16 },
  );
  assert.deepEqual(feeds['past.0'].dims, [2, 1, 4, 0, 16]);
  assert.deepEqual(feeds.past_key_0.dims, [1, 4, 0, 16]);
});

test('an input the inspector cannot feed is one line naming it', () => {
  assert.throws(
    () =>
      prefillFeeds(ort, [{ name: 'pixel_values', elemType: ElemType.FLOAT, shape: null }], IDS, {
        kvHeads: 1,
        headDim: 1,
      }),
    { message: /^Model input "pixel_values" is not one the inspector knows how to feed\.$/ },
  );
});
