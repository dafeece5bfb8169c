// Statistics recomputed from each layer's Q and K (GroupQueryAttention exports run fused again): whole
// below the block threshold, in row blocks above it. Both equal a float64 recomputation from the reference
// decoder's probabilities: received, the head-role bands and entropies, the long-range sum, and (whole)
// the rollout and the dense rows. Between the dense limit and the block threshold, with no per-head rows asked
// for, the head mean comes from the row blocks and the long-range sum still equals it (the rollout then comes on
// demand: none in the graph).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ALL_ROWS, NO_HEAD_ROWS, PROBABILITY_ROWS_INPUT } from '../../../src/engine/graph/attentionStatsGraph';
import { BAND_FROM, entropySampleRows } from '../../../src/engine/graph/headScoreGraph';
import { LONG_RANGE_TOP } from '../../../src/engine/graph/siteStatsGraph';
import { decodeModel } from '../../../src/engine/graph/onnxGraph';
import { prepareTappedModel } from '../../../src/engine/graph/tapCache';
import { decodeRow } from '../../../src/engine/analysis/attentionEncoding';
import { prefillFeeds } from '../../../src/engine/runtime/prefillFeeds';
import type { ExportOptions } from '../../helpers/exportStyleGraph';
import { buildExportGraph } from '../../helpers/exportStyleGraph';
import { mapProjections, quantizeQ4, randomDecoder, referenceForward } from '../../helpers/referenceDecoder';
import { makeTempDir, removeTempDir } from '../../helpers/tinyModel';

const SHAPE = { vocabSize: 64, hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 96, maxPositions: 1024 };
const HD = SHAPE.hidden / SHAPE.heads;
const IDS = Array.from({ length: 45 }, (_, i) => (i * 37 + 11) % 64);
const N = IDS.length;

let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(() => removeTempDir(dir));

interface Expected {
  readonly means: Float64Array[];
  readonly received: Float64Array[];
  readonly rollout: Float64Array[];
}

function expected(probs: readonly Float64Array[], N = IDS.length): Expected {
  const means = probs.map((p) => {
    const m = new Float64Array(N * N);
    for (let h = 0; h < SHAPE.heads; h++) for (let i = 0; i < N * N; i++) m[i] += p[h * N * N + i] / SHAPE.heads;
    return m;
  });
  const received = means.map((m) => {
    const r = new Float64Array(N);
    for (let q = 0; q < N; q++) for (let k = 0; k < N; k++) r[k] += m[q * N + k] / N;
    return r;
  });
  const rollout: Float64Array[] = [];
  let previous: Float64Array | null = null;
  for (const m of means) {
    const hat = m.map((v, i) => 0.5 * v + (i % (N + 1) === 0 ? 0.5 : 0));
    const next = new Float64Array(N * N);
    if (!previous) next.set(hat);
    else
      for (let i = 0; i < N; i++)
        for (let k = 0; k < N; k++) for (let j = 0; j < N; j++) next[i * N + j] += hat[i * N + k] * previous[k * N + j];
    rollout.push(next);
    previous = next;
  }
  return { means, received, rollout };
}

const close = (a: number, b: number, tolerance: number, label: string): void =>
  assert.ok(Math.abs(a - b) < tolerance, `${label}: ${a} vs ${b}`);

const CASES: { label: string; o: ExportOptions; blocked: boolean }[] = [
  { label: 'GQA, whole layer recomputed', o: { style: 'gqa' }, blocked: false },
  { label: 'GQA, row blocks of 8 (a padded last block)', o: { style: 'gqa' }, blocked: true },
  { label: 'GQA q4, row blocks of 8', o: { style: 'gqa', q4: true }, blocked: true },
];

for (const c of CASES) {
  test(`${c.label}: statistics from Q and K equal the float64 forward pass; they make the operator's output`, async () => {
    const weights = randomDecoder(SHAPE, 21);
    const folder = path.join(dir, c.label.replace(/\W+/g, '-'));
    await fs.mkdir(folder, { recursive: true });
    await fs.writeFile(path.join(folder, 'model.onnx'), buildExportGraph(weights, c.o));
    const tapped = await prepareTappedModel(path.join(folder, 'model.onnx'), SHAPE.layers, path.join(folder, 'cache'), {
      attention: { heads: SHAPE.heads, kvHeads: SHAPE.kvHeads, headDim: HD },
      ...(c.blocked ? { blocks: { from: 8, rows: 8 } } : {}),
    });
    assert.ok(tapped.sites);
    assert.equal(tapped.plan.cpuOnly, undefined, 'no probabilities output: any provider');
    // The statistics recompute P from Q and K and make P·V themselves (later layers' statistics, checked below,
    // read it): the fused operator is gone.
    const graph = decodeModel(await fs.readFile(tapped.modelPath));
    const ops = (graph.graph?.node ?? []).map((n) => n.opType);
    assert.ok(ops.includes('If') && !ops.includes('GroupQueryAttention'), 'no fused operator left');
    const effective = c.o.q4 ? mapProjections(weights, (m, K, N_) => quantizeQ4(m, K, N_).dequantized) : weights;
    const reference = referenceForward(effective, IDS).probs;
    const e = expected(reference);
    const session = await ort.InferenceSession.create(tapped.modelPath);
    try {
      const feeds = prefillFeeds(ort, tapped.inputs, IDS, { kvHeads: 2, headDim: HD, metadata: session.inputMetadata });
      feeds[PROBABILITY_ROWS_INPUT] = new ort.Tensor('int64', BigInt64Array.of(BigInt(ALL_ROWS)), [1]);
      const out = await session.run(feeds);
      const data = (name: string): Float32Array => out[name].data as Float32Array;
      const samples = entropySampleRows(N);
      tapped.stats.layers.forEach((o, l) => {
        const p = reference[l];
        const received = data(o.received);
        for (let k = 0; k < N; k++) close(received[k], e.received[l][k], 1e-5, `received ${l}/${k}`);
        // Band sums: per head, Σ over queries q ≥ BAND_FROM[b] of the weight on key 0 (b = 0) or q − b + 1.
        const bandSums = data(o.bands);
        assert.equal(bandSums.length, SHAPE.heads * 6);
        for (let h = 0; h < SHAPE.heads; h++)
          for (let b = 0; b < 6; b++) {
            let sum = 0;
            for (let q = BAND_FROM[b]; q < N; q++) sum += p[h * N * N + q * N + (b === 0 ? 0 : q - b + 1)];
            close(bandSums[h * 6 + b], sum, 1e-5 * N, `band sums ${l}/${h}/${b}`);
          }
        const entropy = data(o.entropy);
        assert.equal(entropy.length, SHAPE.heads * samples.length);
        for (let h = 0; h < SHAPE.heads; h++)
          samples.forEach((q, s) => {
            let sum = 0;
            for (let k = 0; k <= q; k++) {
              const v = p[h * N * N + q * N + k];
              if (v > 0) sum -= v * Math.log(v);
            }
            close(entropy[h * samples.length + s], sum, 1e-4, `entropy ${l}/${h}/${q}`);
          });
        if (c.blocked) {
          assert.equal((out[o.heads.weights].data as Uint8Array).length, 0, 'no compact rows when blocked');
          assert.equal(data(o.rollout.scale).length, 0, 'no rollout when blocked');
        } else {
          const rows = { encoding: 'dense-u8' as const, rows: N, n: N, k: N };
          const rollout = {
            ...rows,
            weights: out[o.rollout.weights].data as Uint8Array,
            rowScale: data(o.rollout.scale),
          };
          for (let q = 0; q < N; q++) {
            const row = decodeRow(rollout, q);
            for (let k = 0; k < N; k++)
              close(row[k], e.rollout[l][q * N + k], rollout.rowScale[q] / 510 + 1e-5, `rollout ${l}/${q}/${k}`);
          }
        }
      });
      const longRange = data(tapped.stats.longRange);
      const top = tapped.stats.longRangeTop;
      assert.ok(top, 'GroupQueryAttention sites: the long-range top is in the graph');
      if (!c.blocked) {
        for (let i = 0; i < N * N; i++) close(longRange[i], e.means[1][i], 1e-5, `longRange ${i}`);
        assert.equal(data(top.weights).length, 0);
      } else {
        // No [n, n] sum: each query's LONG_RANGE_TOP strongest keys at distance ≥ 32, in order.
        assert.equal(longRange.length, 0, 'no [n, n] long-range sum when blocked');
        const weights = data(top.weights);
        const keys = data(top.keys);
        assert.equal(weights.length, N * LONG_RANGE_TOP);
        for (let q = 0; q < N; q++) {
          const row = Array.from({ length: Math.max(0, q - 31) }, (_, k) => k)
            .filter((k) => k >= 1)
            .map((k) => e.means[1][q * N + k])
            .sort((a, b) => b - a);
          for (let j = 0; j < LONG_RANGE_TOP; j++) {
            const at = q * LONG_RANGE_TOP + j;
            if (j >= row.length) {
              assert.equal(weights[at], -1, `no key ${q}/${j}`);
              continue;
            }
            // Read from the kept fp16 Q (what rows on demand read): their bound, 2e-3.
            close(weights[at], row[j], 2e-3, `top ${q}/${j}`);
            const key = keys[at];
            assert.ok(key >= 1 && key <= q - 32, `key ${key} of row ${q} is ≥ 32 back`);
            close(e.means[1][q * N + key], weights[at], 2e-3, `top key ${q}/${j}`);
          }
        }
      }
    } finally {
      await session.release();
    }
  });
}

test('600 tokens, no per-head rows: the head mean from row blocks gives the long-range sum, no rollout', async () => {
  const ids = Array.from({ length: 600 }, (_, i) => (i * 37 + 11) % 64);
  const n = ids.length;
  const weights = randomDecoder(SHAPE, 22);
  const folder = path.join(dir, 'mean-blocked');
  await fs.mkdir(folder, { recursive: true });
  await fs.writeFile(path.join(folder, 'model.onnx'), buildExportGraph(weights, { style: 'gqa' }));
  const tapped = await prepareTappedModel(path.join(folder, 'model.onnx'), SHAPE.layers, path.join(folder, 'cache'), {
    attention: { heads: SHAPE.heads, kvHeads: SHAPE.kvHeads, headDim: HD },
    blocks: { from: 2048, rows: 128 },
  });
  const graph = decodeModel(await fs.readFile(tapped.modelPath));
  assert.ok(
    JSON.stringify(graph.graph?.node?.map((node) => node.opType)).includes('If'),
    'the statistics sit in If branches',
  );
  const reference = referenceForward(weights, ids).probs;
  const e = expected(reference, n);
  const session = await ort.InferenceSession.create(tapped.modelPath);
  try {
    const feeds = prefillFeeds(ort, tapped.inputs, ids, { kvHeads: 2, headDim: HD, metadata: session.inputMetadata });
    feeds[PROBABILITY_ROWS_INPUT] = new ort.Tensor('int64', BigInt64Array.of(BigInt(NO_HEAD_ROWS)), [1]);
    const out = await session.run(feeds);
    const data = (name: string): Float32Array => out[name].data as Float32Array;
    tapped.stats.layers.forEach((o, l) => {
      assert.equal((out[o.heads.weights].data as Uint8Array).length, 0, 'no per-head rows');
      const received = data(o.received);
      for (let k = 0; k < n; k++) close(received[k], e.received[l][k], 1e-5, `received ${l}/${k}`);
      // The rollout comes on demand where the rows do (analysis/rolloutRows.ts): none in the graph.
      assert.equal(data(o.rollout.scale).length, 0, 'no rollout rows');
      assert.equal((out[o.rollout.weights].data as Uint8Array).length, 0);
    });
    const longRange = data(tapped.stats.longRange);
    assert.equal(longRange.length, n * n, 'the [n, n] long-range sum below the block threshold');
    for (let i = 0; i < n * n; i += 97) close(longRange[i], e.means[1][i], 1e-5, `longRange ${i}`);
  } finally {
    await session.release();
  }
});
