// An export's own KV cache for attribution's shared prefix (runtime/prefixScoring.ts): on an onnxruntime-genai
// builder folder (GroupQueryAttention, no position_ids) and optimum's legacy merged decoder (If on
// use_cache_branch), ablations run from the whole prompt's keys and values score what a float64 forward pass
// of the same weights gives; a graph whose mask ignores the past fails the first check and is scored whole.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { readModelConfig } from '../../../../src/engine/runtime/modelConfig';
import { LogitsSession } from '../../../../src/engine/runtime/logitsSession';
import type { ScoredSequence } from '../../../../src/engine/runtime/logitsSession';
import { writeExportFolder } from '../../../helpers/exportStyleFolder';
import type { DecoderWeights } from '../../../helpers/referenceDecoder';
import { referenceForward } from '../../../helpers/referenceDecoder';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../../helpers/tinyModel';

let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(() => removeTempDir(dir));

/** Per answer token, log p in float64 from the reference forward pass of the whole sequence. */
function reference(weights: DecoderWeights, seq: ScoredSequence): number[] {
  const { logits } = referenceForward(weights, seq.ids);
  const vocab = weights.shape.vocabSize;
  const out: number[] = [];
  for (let p = seq.answerStart - 1; p < seq.ids.length - 1; p++) {
    const row = logits.subarray(p * vocab, (p + 1) * vocab);
    const max = row.reduce((m, v) => Math.max(m, v), -Infinity);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    out.push(row[seq.ids[p + 1]] - lse);
  }
  return out;
}

/** A 40-token prompt in four 10-token sections, and each section left out, all before a 3-token answer. */
function ablations(vocab: number): ScoredSequence[] {
  const prompt = Array.from({ length: 40 }, (_, i) => 2 + ((i * 7 + 3) % (vocab - 3)));
  const answer = [5, 11, 9];
  const whole = { ids: [...prompt, ...answer], answerStart: prompt.length };
  const left = [0, 1, 2, 3].map((s) => {
    const kept = prompt.filter((_, i) => Math.floor(i / 10) !== s);
    return { ids: [...kept, ...answer], answerStart: kept.length };
  });
  return [whole, ...left];
}

for (const style of ['genai', 'merged'] as const) {
  test(`${style}: ablations from the export's own cache equal the float64 forward pass`, async () => {
    const folder = await writeExportFolder(path.join(dir, style), style);
    const config = await readModelConfig(folder.folder);
    const session = await LogitsSession.open(folder.folder, config, { provider: 'cpu' });
    try {
      assert.deepEqual(session.prefixCacheStatus, { native: true, disabledReason: null });
      const sequences = ablations(folder.weights.shape.vocabSize);
      const scores = await session.answerLogProbs(sequences);
      assert.equal(session.prefixCacheStatus?.disabledReason, null, 'the first run from the cache matched');
      assert.equal(session.prefixCache, true);
      sequences.forEach((seq, s) => {
        const expected = reference(folder.weights, seq);
        expected.forEach((v, j) =>
          assert.ok(Math.abs(scores[s][j] - v) < 1e-3, `seq ${s} token ${j}: ${scores[s][j]} vs ${v}`),
        );
      });
      // A later call starting from the same prompt (the savings run).
      const [again] = await session.answerLogProbs([sequences[4]], undefined, undefined, { reusePrefix: true });
      reference(folder.weights, sequences[4]).forEach((v, j) => assert.ok(Math.abs(again[j] - v) < 1e-3));
    } finally {
      await session.dispose();
    }
  });
}

test('a cache whose mask ignores the past fails the first check: every sequence is scored whole', async () => {
  // The tiny llama's cache inputs come with a causal mask over the new tokens only.
  const tiny = await writeTinyModel(path.join(dir, 'tiny-past'), { layers: 2, heads: 4, kvHeads: 2, withPast: true });
  const config = await readModelConfig(tiny.folder);
  const cached = await LogitsSession.open(tiny.folder, config, { provider: 'cpu' });
  const whole = await LogitsSession.open(tiny.folder, config, { provider: 'cpu', noPrefixCache: true });
  try {
    assert.equal(cached.prefixCacheStatus?.native, true);
    const sequences = ablations(tiny.vocabSize);
    const scores = await cached.answerLogProbs(sequences);
    assert.match(cached.prefixCacheStatus?.disabledReason ?? '', /run from the cache (failed|differed)/);
    assert.equal(cached.prefixCache, false);
    const expected = await whole.answerLogProbs(sequences);
    sequences.forEach((_, s) => expected[s].forEach((v, j) => assert.ok(Math.abs(scores[s][j] - v) < 1e-4)));
  } finally {
    await cached.dispose();
    await whole.dispose();
  }
});
