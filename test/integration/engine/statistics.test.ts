import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionRows } from '../../../src/shared/protocol';
import {
  chooseTopK,
  decodeRow,
  encodeDense,
  encodeRows,
  encodeTopK,
  MAX_TOPK,
} from '../../../src/engine/analysis/attentionEncoding';
import { memoryRefusal } from '../../../src/engine/inspection';
import { inspectionBytes, tokensThatFit } from '../../../src/engine/runtime/inspectionMemory';
import {
  chooseRole,
  headScores,
  inductionScores,
  scoreInputsFromFull,
  summarizeHeads,
} from '../../../src/engine/analysis/headRoles';
import { LoadedModel } from '../../../src/engine/runtime/loadedModel';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../helpers/tinyModel';

/** A causal [n, n] head whose row q puts weight `f(q)` on keys; rows renormalized. */
function head(n: number, weights: (q: number, k: number) => number): Float32Array {
  const out = new Float32Array(n * n);
  for (let q = 0; q < n; q++) {
    let sum = 0;
    for (let k = 0; k <= q; k++) sum += out[q * n + k] = weights(q, k);
    for (let k = 0; k <= q; k++) out[q * n + k] /= sum;
  }
  return out;
}

test('head roles: previous-token, sink, local and broad heads are recognised from their patterns', () => {
  const n = 40;
  const cases: [string, Float32Array][] = [
    ['previous-token', head(n, (q, k) => (k === Math.max(0, q - 1) ? 1 : 0.001))],
    ['sink', head(n, (_q, k) => (k === 0 ? 1 : 0.002))],
    ['local', head(n, (q, k) => (q - k <= 4 && q - k !== 1 && k > 0 ? 1 : 0.001))],
    ['broad', head(n, () => 1)],
  ];
  for (const [role, data] of cases) {
    const scores = headScores(scoreInputsFromFull(data, 1, n), 0, 0);
    assert.equal(chooseRole(scores), role, `${role}: ${JSON.stringify(scores)}`);
    for (const value of Object.values(scores)) assert.ok(value >= 0 && value <= 1);
  }
  assert.equal(chooseRole({ previousToken: 0.1, sink: 0.2, induction: 0.6, local: 0.1, broad: 0.3 }), 'induction');
});

test('induction score: attention to the token after the earlier occurrence', () => {
  const length = 6;
  const offset = 1;
  const n = offset + 2 * length;
  const data = head(n, (q, k) => (q >= offset + length && k === q - length + 1 ? 1 : 0.0001));
  const scores = inductionScores(data, 1, n, offset, length);
  assert.ok(scores[0] > 0.9, `score ${scores[0]}`);
  const summaries = summarizeHeads(2, scoreInputsFromFull(data, 1, n), scores);
  assert.equal(summaries[0].layer, 2);
  assert.equal(summaries[0].scores.induction, scores[0]);
});

test('attention rows: dense u8 up to 512 tokens, top-k above, both decode close to the original', () => {
  const n = 20;
  const data = head(n, (q, k) => 1 + ((q * 7 + k * 3) % 5));
  const dense = encodeRows(data, n, n, 8);
  assert.equal(dense.encoding, 'dense-u8');
  assert.equal(dense.k, n);
  for (let r = 0; r < n; r++) {
    const row = decodeRow(dense, r);
    for (let k = 0; k < n; k++)
      assert.ok(Math.abs(row[k] - data[r * n + k]) <= dense.rowScale[r] / 255, 'quantization error ≤ rowMax/255');
  }
  const big = 600;
  const wide = head(big, (q, k) => (k === q ? 50 : 1 + (k % 3)));
  const topk = encodeRows(wide, big, big, 16);
  assert.equal(topk.encoding, 'topk-u8');
  assert.equal(topk.k, 16);
  assert.ok(topk.indices);
  // Row 599: strongest key first is the diagonal; a short row (query 3) pads with 0xffff.
  assert.equal(topk.indices[599 * 16], 599);
  assert.equal(topk.weights[599 * 16], 255);
  assert.equal(topk.indices[3 * 16 + 4], 0xffff);
  for (let j = 1; j < 16; j++)
    assert.ok(topk.weights[599 * 16 + j] <= topk.weights[599 * 16 + j - 1], 'strongest first');
  assert.ok(Math.abs(topk.rowScale[599] - wide[599 * big + 599]) < 1e-7);
});

test('top-k size keeps the whole payload at 2,048 tokens within budget', () => {
  assert.equal(chooseTopK(2048, 4, 8), MAX_TOPK);
  const k = chooseTopK(2048, 24, 14);
  assert.ok(k < MAX_TOPK && k >= 16);
  assert.ok(24 * 15 * 2048 * k * 3 < 64 * 1024 * 1024);
});

let dir = '';
let model: LoadedModel;

before(async () => {
  dir = await makeTempDir();
  const tiny = await writeTinyModel(`${dir}/model`, { layers: 3 });
  model = await LoadedModel.load(tiny.folder, { id: 'tiny', cacheDir: `${dir}/cache`, provider: 'cpu' });
});

after(async () => {
  await model.dispose();
  await removeTempDir(dir);
});

/** float64 rollout from the tapped heads: Â = ½M + ½I, R_l = Â_l · R_{l−1}; also the head means. */
function referenceRollout(
  layers: readonly { data?: Float32Array; heads: number }[],
  n: number,
): { rollout: Float64Array[]; means: Float64Array[] } {
  const rollout: Float64Array[] = [];
  const means: Float64Array[] = [];
  let previous: Float64Array | null = null;
  for (const layer of layers) {
    const data = layer.data;
    assert.ok(data);
    const mean = new Float64Array(n * n);
    for (let h = 0; h < layer.heads; h++) for (let i = 0; i < n * n; i++) mean[i] += data[h * n * n + i] / layer.heads;
    means.push(mean);
    const hat = mean.map((v, i) => 0.5 * v + (i % (n + 1) === 0 ? 0.5 : 0));
    const next = new Float64Array(n * n);
    if (!previous) next.set(hat);
    else
      for (let i = 0; i < n; i++)
        for (let k = 0; k <= i; k++)
          for (let j = 0; j <= k; j++) next[i * n + j] += hat[i * n + k] * previous[k * n + j];
    rollout.push(next);
    previous = next;
  }
  return { rollout, means };
}

/** Dense u8 rows decode to the reference within the quantization step (rowMax/510) plus float error. */
/** The graph's band sums against those summed in float64 from the full probabilities (float32 sums of up to n
 * terms: within 1e-6 of each sum's size). */
function assertBandSums(got: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(got.length, expected.length, `${label}: band sums`);
  assert.ok(
    expected.some((e) => e > 1),
    `${label}: the sums are not trivial`,
  );
  expected.forEach((e, i) =>
    assert.ok(Math.abs(got[i] - e) <= 1e-6 * Math.max(1, e) * 4, `${label} band ${i}: ${got[i]} vs ${e}`),
  );
}

function assertDenseRowsMatch(rows: AttentionRows, reference: ArrayLike<number>, label: string): void {
  assert.equal(rows.encoding, 'dense-u8', label);
  const n = rows.n;
  for (let r = 0; r < rows.rows; r++) {
    let max = 0;
    for (let j = 0; j < n; j++) max = Math.max(max, reference[r * n + j]);
    assert.ok(Math.abs(rows.rowScale[r] - max) < 1e-5, `${label} row ${r} scale ${rows.rowScale[r]} vs ${max}`);
    const decoded = decodeRow(rows, r);
    for (let j = 0; j < n; j++)
      assert.ok(
        Math.abs(decoded[j] - reference[r * n + j]) <= max / 510 + 1e-5,
        `${label}[${r}][${j}]: ${decoded[j]} vs ${reference[r * n + j]}`,
      );
  }
}

test('received, rollout and the long-range sum computed in the graph equal a float64 recomputation from the tapped heads', async () => {
  // Odd n: the blocked triangular product splits unevenly (the tiny model's context is 128).
  const ids = model.tokenizer
    .tokenize('The quick brown fox jumps over the lazy dog, twice: the quick brown fox. '.repeat(3))
    .ids.slice(0, 101);
  const n = ids.length;
  assert.ok(n > 60);
  const run = await model.runTensors(ids);
  const layers = run.layers;
  assert.equal(layers.length, 3);
  const { rollout, means } = referenceRollout(layers, n);
  layers.forEach((layer, l) => {
    const data = layer.data;
    assert.ok(data);
    // The head-score inputs gathered in the graph equal those taken from the full probabilities.
    const expected = scoreInputsFromFull(data, layer.heads, n);
    assertBandSums(layer.scoreInputs.bandSums, expected.bandSums, `layer ${l}`);
    expected.entropy.forEach((e, i) =>
      assert.ok(
        Math.abs(e - layer.scoreInputs.entropy[i]) < 1e-4,
        `entropy ${i}: ${layer.scoreInputs.entropy[i]} vs ${e}`,
      ),
    );
    // received: mean over queries of the head mean.
    let total = 0;
    for (let k = 0; k < n; k++) {
      let r = 0;
      for (let q = 0; q < n; q++) r += means[l][q * n + k] / n;
      assert.ok(Math.abs(r - layer.received[k]) < 1e-5, `received[${k}]`);
      total += layer.received[k];
    }
    assert.ok(Math.abs(total - 1) < 1e-5);
    // The rollout leaves the graph as compact rows only; they decode to the float64 rollout (diagonal included).
    assertDenseRowsMatch(layer.rollout, rollout[l], `rollout ${l}`);
    assertDenseRowsMatch(layer.rows, data, `heads ${l}`);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < n; j++) sum += rollout[l][i * n + j];
      assert.ok(Math.abs(sum - 1) < 1e-5, 'rollout rows sum to 1');
    }
  });
  // Long-range pairs read Σ of the head means over the last ⌈layers/2⌉ layers.
  assert.equal(run.longRangeFrom, 1);
  for (let i = 0; i < n * n; i++) {
    const expected = means[1][i] + means[2][i];
    assert.ok(Math.abs(run.longRange[i] - expected) < 1e-6, `longRange[${i}]: ${run.longRange[i]} vs ${expected}`);
  }
});

test('the token limit comes from the memory an inspection needs, not from holding every head at once', () => {
  const qwen = { layers: 24, heads: 14, hidden: 896, intermediate: 4864 };
  // All heads' float32 probabilities at 2,048 tokens would be 5.25 GiB; the inspection holds one layer's.
  assert.ok(24 * 14 * 2048 * 2048 * 4 > 5 * 2 ** 30);
  assert.ok(inspectionBytes(qwen, 2048) < 2 * 2 ** 30, `${inspectionBytes(qwen, 2048)}`);
  assert.ok(tokensThatFit(qwen, 20 * 2 ** 30) > 2048);
  // Monotonic, and the limit is the largest n that fits.
  const limit = tokensThatFit(qwen, 2 ** 30);
  assert.ok(inspectionBytes(qwen, limit) <= 2 ** 30 && inspectionBytes(qwen, limit + 1) > 2 ** 30);
  assert.equal(memoryRefusal(2048, 2 ** 30, 2 ** 31), null);
  assert.equal(
    memoryRefusal(4096, 3 * 2 ** 30, 2 ** 30),
    'Inspecting 4096 tokens needs about 3.0 GiB of memory; the machine has 1.0 GiB free. Close other programs or inspect fewer tokens.',
  );
});

test('the rollout of 1 to 9 tokens equals the float64 one: the blocked product recurses into empty blocks', async () => {
  const all = model.tokenizer.tokenize('One two three four five six seven eight nine ten.').ids;
  for (let n = 1; n <= 9; n++) {
    const layers = (await model.runTensors(all.slice(0, n))).layers;
    const { rollout } = referenceRollout(layers, n);
    layers.forEach((layer, l) => assertDenseRowsMatch(layer.rollout, rollout[l], `${n} tokens, rollout ${l}`));
  }
});

test('the compact rows computed in the graph match the JavaScript encoders (dense ≤ 512 tokens, top-k above)', async () => {
  const long = await writeTinyModel(`${dir}/long`, { layers: 2, maxPositions: 1024 });
  const longModel = await LoadedModel.load(long.folder, { id: 'long', cacheDir: `${dir}/cache`, provider: 'cpu' });
  try {
    const ids = longModel.tokenizer.tokenize('Words and more words, many of them. '.repeat(40)).ids.slice(0, 600);
    const n = ids.length;
    assert.equal(n, 600);
    const k = chooseTopK(n, 2, 4);
    const layers = await longModel.runAttention(ids);
    const { rollout } = referenceRollout(layers, n);
    layers.forEach((layer, l) => {
      assert.ok(layer.data);
      assertBandSums(layer.scoreInputs.bandSums, scoreInputsFromFull(layer.data, layer.heads, n).bandSums, `${l}`);
      assertTopKMatches(layer.rows, encodeTopK(layer.data, layer.heads * n, n, k, true), k, n, `heads ${l}`);
      // The rollout's top-k rows, the same k, against the float64 rollout's.
      assertTopKMatches(layer.rollout, encodeTopK(Float32Array.from(rollout[l]), n, n, k, true), k, n, `rollout ${l}`);
    });
    const short = ids.slice(0, 50);
    const full = await longModel.runAttention(short);
    const compact = await longModel.runAttention(short, { probabilities: false });
    compact.forEach((layer, l) => {
      assert.equal(layer.data, undefined, 'probabilities not copied out unless asked for');
      const data = full[l].data;
      assert.ok(data);
      assert.equal(layer.rows.encoding, 'dense-u8');
      const js = encodeDense(data, layer.heads * 50, 50, true);
      for (let i = 0; i < js.weights.length; i++) assert.ok(Math.abs(js.weights[i] - layer.rows.weights[i]) <= 1);
      for (let r = 0; r < js.rows; r++) assert.ok(Math.abs(js.rowScale[r] - layer.rows.rowScale[r]) < 1e-7);
    });
  } finally {
    await longModel.dispose();
  }
});

function assertTopKMatches(graph: AttentionRows, js: AttentionRows, k: number, n: number, label: string): void {
  assert.equal(graph.encoding, 'topk-u8', label);
  assert.equal(graph.k, k, label);
  const indices = graph.indices;
  assert.ok(indices);
  for (let r = 0; r < graph.rows; r += 7) {
    assert.ok(Math.abs(graph.rowScale[r] - js.rowScale[r]) < 1e-6, `${label} row ${r} scale`);
    const expected = new Map<number, number>();
    for (let j = 0; j < k; j++)
      if (js.indices?.[r * k + j] !== 0xffff) expected.set(js.indices?.[r * k + j] ?? -1, js.weights[r * k + j]);
    for (let j = 0; j < k; j++) {
      const key = indices[r * k + j];
      if (key === 0xffff) continue;
      assert.ok(key <= r % n, 'causal');
      const weight = expected.get(key);
      if (weight !== undefined)
        assert.ok(Math.abs(weight - graph.weights[r * k + j]) <= 1, `${label} row ${r} key ${key}`);
      else
        assert.ok(graph.weights[r * k + j] <= (js.weights[r * k + k - 1] ?? 0) + 1, 'a tie with the weakest kept key');
    }
    for (let j = 1; j < k; j++) assert.ok(graph.weights[r * k + j] <= graph.weights[r * k + j - 1], 'strongest first');
  }
  // Short rows pad with 0xffff: query 3 has 4 keys.
  assert.equal(indices[3 * k + 4], 0xffff);
}
