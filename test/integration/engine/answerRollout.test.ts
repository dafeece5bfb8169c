// The answer tokens' rollout against the float64 reference decoder: its attention probabilities over the
// prompt and the answer, rolled out by full float64 matrix products (test/helpers/referenceRollout.ts), must
// give every answer token's rollout row per layer — for tokens generated through the KV cache (the prompt
// rolled out by onnxruntime products, each token by the row recursion; a graph without a cache takes the same
// path with whole-sequence steps), and for a given answer read in one pass.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GenerationSession, type GeneratedToken } from '../../../src/engine/runtime/generationSession';
import { readModelConfig } from '../../../src/engine/runtime/modelConfig';
import { writeKvExportFolder } from '../../helpers/kvExportFolder';
import { randomDecoder, referenceForward, type DecoderShape } from '../../helpers/referenceDecoder';
import { referenceRollout } from '../../helpers/referenceRollout';
import { makeTempDir, removeTempDir } from '../../helpers/tinyModel';

const SHAPE: DecoderShape = {
  vocabSize: 300,
  hidden: 64,
  layers: 3,
  heads: 4,
  kvHeads: 2,
  intermediate: 96,
  maxPositions: 128,
};
const weights = randomDecoder(SHAPE, 31);
const PROMPT = [5, 17, 42, 99, 3, 250, 7, 64, 12, 180, 33, 8];
let dir = '';

before(async () => {
  dir = await writeKvExportFolder(await makeTempDir(), weights);
});
after(() => removeTempDir(dir));

/** The largest difference between each token's rollout rows and the reference's, over prompt + answer. */
function worstRolloutDifference(tokens: readonly GeneratedToken[], prompt: readonly number[]): number {
  const ids = [...prompt, ...tokens.map((t) => t.id)];
  const n = ids.length;
  const expected = referenceRollout(referenceForward(weights, ids).probs, n);
  let worst = 0;
  tokens.forEach((token, i) => {
    const q = prompt.length + i;
    assert.equal(token.keys, q + 1);
    const rollout = token.rollout ?? [];
    assert.equal(rollout.length, SHAPE.layers);
    for (let l = 0; l < SHAPE.layers; l++) {
      assert.equal(rollout[l].length, token.keys);
      for (let k = 0; k < n; k++) {
        const got = k < token.keys ? rollout[l][k] : 0;
        worst = Math.max(worst, Math.abs(got - expected[l][q * n + k]));
      }
    }
  });
  return worst;
}

test('generated tokens carry the exact rollout through the KV cache', async () => {
  const session = await GenerationSession.open(dir, await readModelConfig(dir), { provider: 'cpu' });
  try {
    assert.equal(session.kvCache, true);
    const tokens = await session.generate(PROMPT, { maxTokens: 6, rollout: true });
    // Without asking, no rollout (it costs about a decode step per token).
    const plain = await session.generate(PROMPT, { maxTokens: 2 });
    assert.equal(plain[0].rollout, undefined);
    assert.equal(tokens.length, 6);
    const worst = worstRolloutDifference(tokens, PROMPT);
    assert.ok(worst < 1e-4, `largest rollout difference ${worst}`);
    // The rollout is not the attention: the last layer's rollout row differs from its head mean.
    const t = tokens[5];
    const heads = SHAPE.heads;
    const mean = Array.from({ length: t.keys }, (_, k) => {
      let acc = 0;
      for (let h = 0; h < heads; h++) acc += t.rows[SHAPE.layers - 1][h * t.keys + k] / heads;
      return acc;
    });
    assert.ok(mean.some((v, k) => Math.abs(v - (t.rollout?.[SHAPE.layers - 1][k] ?? 0)) > 1e-3));
  } finally {
    await session.dispose();
  }
});

test('a given answer read in one pass carries the same exact rollout', async () => {
  const session = await GenerationSession.open(dir, await readModelConfig(dir), { provider: 'cpu' });
  try {
    const answer = [44, 45, 46, 200, 2];
    const read = await session.readAnswer(PROMPT, answer, { rollout: true });
    assert.deepEqual(
      read.map((r) => r.id),
      answer,
    );
    const worst = worstRolloutDifference(read, PROMPT);
    assert.ok(worst < 1e-4, `largest rollout difference ${worst}`);
  } finally {
    await session.dispose();
  }
});
