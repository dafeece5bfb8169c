// "Attention × value norm" (Kobayashi et al. 2020) computed in the graph, against the float64 reference
// decoder: for each layer, head and query, α_ij · ‖v_j W_O^h‖ over keys j, normalized to sum to 1, where
// v_j is the key's value vector (its KV head's) and W_O^h the head's rows of the output projection.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { GenerationSession } from '../../../src/engine/runtime/generationSession';
import { LoadedModel } from '../../../src/engine/runtime/loadedModel';
import { readModelConfig } from '../../../src/engine/runtime/modelConfig';
import { buildExportGraph } from '../../helpers/exportStyleGraph';
import { llamaConfigJson, writeKvExportFolder } from '../../helpers/kvExportFolder';
import { headDim, randomDecoder, referenceForward, smallGqaShape } from '../../helpers/referenceDecoder';
import { makeTempDir, removeTempDir } from '../../helpers/tinyModel';
import { buildTinyTokenizer } from '../../helpers/tinyTokenizer';

const SHAPE = smallGqaShape(200, 64);
const weights = randomDecoder(SHAPE, 17);
let dir = '';

before(async () => {
  dir = await writeKvExportFolder(await makeTempDir(), weights);
});
after(() => removeTempDir(dir));

/** The reference's ‖v_j W_O^h‖ for one layer: [heads, n]. */
function referenceNorms(layer: number, ids: readonly number[], w = weights): Float64Array {
  const run = referenceForward(w, ids);
  const { heads: H, kvHeads: KV, hidden: D } = SHAPE;
  const hd = headDim(SHAPE);
  const n = ids.length;
  const v = run.values[layer];
  const wo = w.layers[layer].wo; // [H·hd, D]
  const norms = new Float64Array(H * n);
  for (let h = 0; h < H; h++) {
    const kv = Math.floor(h / (H / KV));
    for (let j = 0; j < n; j++) {
      let sq = 0;
      for (let c = 0; c < D; c++) {
        let dot = 0;
        for (let e = 0; e < hd; e++) dot += v[j * KV * hd + kv * hd + e] * wo[(h * hd + e) * D + c];
        sq += dot * dot;
      }
      norms[h * n + j] = Math.sqrt(sq);
    }
  }
  return norms;
}

/** The reference's weighted rows for one layer: [heads, n, n]. */
function referenceWeighted(layer: number, ids: readonly number[]): Float64Array {
  const { heads: H } = SHAPE;
  const n = ids.length;
  const norms = referenceNorms(layer, ids);
  const p = referenceForward(weights, ids).probs[layer];
  const out = new Float64Array(H * n * n);
  for (let h = 0; h < H; h++)
    for (let i = 0; i < n; i++) {
      let total = 0;
      for (let j = 0; j <= i; j++) total += out[h * n * n + i * n + j] = p[h * n * n + i * n + j] * norms[h * n + j];
      for (let j = 0; j <= i; j++) out[h * n * n + i * n + j] /= total;
    }
  return out;
}

test('the in-graph attention × value norm equals the float64 reference, rows summing to 1', async () => {
  const ids = [3, 77, 12, 150, 9, 42, 199, 5, 61, 120, 33, 8];
  const session = await GenerationSession.open(dir, await readModelConfig(dir), { provider: 'cpu', valueNorms: true });
  try {
    const layers = await session.valueNormRows(ids);
    const n = ids.length;
    for (let l = 0; l < SHAPE.layers; l++) {
      const expected = referenceWeighted(l, ids);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - layers[l][i]));
      assert.ok(worst < 1e-4, `layer ${l}: largest difference ${worst}`);
      for (let h = 0; h < SHAPE.heads; h++)
        for (let q = 0; q < n; q++) {
          const row = layers[l].subarray(h * n * n + q * n, h * n * n + (q + 1) * n);
          assert.ok(Math.abs(row.reduce((s, x) => s + x, 0) - 1) < 1e-5);
        }
      // It differs from plain attention: the value norms reweigh the keys.
      const plain = referenceForward(weights, ids).probs[l];
      assert.ok(Math.max(...Array.from(plain, (x, i) => Math.abs(x - expected[i]))) > 1e-3);
    }
  } finally {
    await session.dispose();
  }
});

test('the inspection graph gives the panel the same norms per head and key (its value-norm mode)', async () => {
  // The inspection loads a tokenizer too: a decoder over the tiny tokenizer's vocabulary.
  const tokenizer = buildTinyTokenizer();
  const own = randomDecoder({ ...SHAPE, vocabSize: tokenizer.vocabSize }, 18);
  const folder = await writeKvExportFolder(path.join(dir, 'with-tokenizer'), own, tokenizer);
  const ids = [3, 77, 12, 150, 9, 42, 99, 5];
  const model = await LoadedModel.load(folder, { id: 'kv', cacheDir: path.join(dir, 'cache'), provider: 'cpu' });
  try {
    const layers = await model.runAttention(ids, { probabilities: false });
    for (let l = 0; l < SHAPE.layers; l++) {
      const norms = layers[l].valueNorms;
      assert.ok(norms, `layer ${l} has value norms`);
      const expected = referenceNorms(l, ids, own);
      assert.equal(norms.length, expected.length);
      for (let i = 0; i < expected.length; i++)
        assert.ok(Math.abs(norms[i] - expected[i]) < 1e-4 * Math.max(1, expected[i]), `layer ${l} [${i}]`);
    }
  } finally {
    await model.dispose();
  }
});

test('answer tokens carry their value-norm rows: generated through the KV cache, and a given answer', async () => {
  const prompt = [3, 77, 12, 150, 9, 42, 199, 5];
  const session = await GenerationSession.open(dir, await readModelConfig(dir), {
    provider: 'cpu',
    valueNorms: 'when-supported',
  });
  try {
    assert.equal(session.kvCache, true);
    assert.equal(session.valueNormsUnavailable, undefined);
    const generated = await session.generate(prompt, { maxTokens: 5 });
    const read = await session.readAnswer(prompt, [61, 120, 33]);
    for (const tokens of [generated, read]) {
      const ids = [...prompt, ...tokens.map((t) => t.id)];
      const n = ids.length;
      let worst = 0;
      for (let l = 0; l < SHAPE.layers; l++) {
        const expected = referenceWeighted(l, ids);
        tokens.forEach((t, i) => {
          const q = prompt.length + i;
          const rows = t.valueNorm?.[l];
          assert.ok(rows, `token ${i} has value-norm rows`);
          assert.equal(rows.length, SHAPE.heads * t.keys);
          for (let h = 0; h < SHAPE.heads; h++)
            for (let k = 0; k < t.keys; k++)
              worst = Math.max(worst, Math.abs(rows[h * t.keys + k] - expected[h * n * n + q * n + k]));
        });
      }
      assert.ok(worst < 1e-4, `largest difference ${worst}`);
    }
  } finally {
    await session.dispose();
  }
});

test('a graph whose output projection is quantized opens without value norms, and says why', async () => {
  const folder = path.join(dir, 'q4');
  await fs.mkdir(path.join(folder, 'onnx'), { recursive: true });
  await fs.writeFile(path.join(folder, 'onnx', 'model.onnx'), buildExportGraph(weights, { style: 'torch', q4: true }));
  await fs.writeFile(path.join(folder, 'config.json'), llamaConfigJson(SHAPE));
  const session = await GenerationSession.open(folder, await readModelConfig(folder), {
    provider: 'cpu',
    valueNorms: 'when-supported',
  });
  try {
    assert.match(session.valueNormsUnavailable ?? '', /output projection/);
    const tokens = await session.generate([3, 77, 12], { maxTokens: 2 });
    assert.equal(tokens.length, 2);
    assert.equal(tokens[0].valueNorm, undefined);
  } finally {
    await session.dispose();
  }
  await assert.rejects(
    GenerationSession.open(folder, await readModelConfig(folder), { provider: 'cpu', valueNorms: true }),
    /Attention × value norm cannot read/,
  );
});
