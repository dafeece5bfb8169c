// The logits session on small exports: the sliced LM head with left-padded batches gives the same answer
// log-probabilities as the whole graph run one sequence at a time, with and without cache inputs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { readModelConfig } from '../../../../src/engine/runtime/modelConfig';
import { LogitsSession } from '../../../../src/engine/runtime/logitsSession';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../../helpers/tinyModel';

let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(() => removeTempDir(dir));

for (const withPast of [false, true]) {
  test(`batched, sliced scores equal one-at-a-time full-logit scores (${withPast ? 'with' : 'without'} cache inputs)`, async () => {
    const tiny = await writeTinyModel(path.join(dir, `m${withPast}`), { layers: 2, heads: 4, kvHeads: 2, withPast });
    const config = await readModelConfig(tiny.folder);
    const sliced = await LogitsSession.open(tiny.folder, config, { provider: 'cpu' });
    const full = await LogitsSession.open(tiny.folder, config, {
      provider: 'cpu',
      fullLogits: true,
      noPrefixCache: true,
    });
    try {
      assert.equal(sliced.sliced, true);
      assert.equal(full.sliced, false);
      const answer = [5, 9, 11];
      const sequences = [20, 7, 13].map((length, s) => {
        const prompt = Array.from({ length }, (_, i) => 3 + ((i * 5 + s) % (tiny.vocabSize - 4)));
        return { ids: [...prompt, ...answer], answerStart: length };
      });
      const batched = await sliced.answerLogProbs(sequences);
      for (let s = 0; s < sequences.length; s++) {
        const [alone] = await full.answerLogProbs([sequences[s]]);
        for (let j = 0; j < answer.length; j++)
          assert.ok(Math.abs(batched[s][j] - alone[j]) < 1e-4, `seq ${s} token ${j}: ${batched[s][j]} vs ${alone[j]}`);
        assert.ok(alone.every((v) => v < 0 && Number.isFinite(v)));
      }
    } finally {
      await sliced.dispose();
      await full.dispose();
    }
  });
}
