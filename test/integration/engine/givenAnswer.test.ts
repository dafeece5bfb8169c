// The answer strip's given answer (the text after `---answer---`), read after its prompt in one pass, against
// the float64 reference decoder: its tokens are the joined text's tokens after the prompt (as attribution
// tokenizes them), their offsets cover the answer's text, and each token's rows are the reference's
// probabilities at its position over the prompt and the answer up to it — what a generated token carries.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { AnswerSessions, readGivenAnswer } from '../../../src/engine/answer';
import type { GenerationSession } from '../../../src/engine/runtime/generationSession';
import { LoadedModel } from '../../../src/engine/runtime/loadedModel';
import { joinAnswer, splitAnswer } from '../../../src/shared/answerText';
import { writeKvExportFolder } from '../../helpers/kvExportFolder';
import { randomDecoder, referenceForward, type DecoderShape } from '../../helpers/referenceDecoder';
import { makeTempDir, removeTempDir } from '../../helpers/tinyModel';
import { buildTinyTokenizer } from '../../helpers/tinyTokenizer';

const tokenizer = buildTinyTokenizer();
const SHAPE: DecoderShape = {
  vocabSize: tokenizer.vocabSize,
  hidden: 64,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  intermediate: 96,
  maxPositions: 256,
};
const weights = randomDecoder(SHAPE, 23);
const FILE = 'The cat sat on the mat.\n---answer---\nThe dog sat there too.\n';
let dir = '';

before(async () => {
  dir = await makeTempDir();
  await writeKvExportFolder(path.join(dir, 'model'), weights, tokenizer);
});
after(() => removeTempDir(dir));

/** Loads the test model and its generation session, runs `use`, then releases both. */
async function withAnswerSession(
  use: (loaded: LoadedModel, session: GenerationSession) => Promise<void>,
): Promise<void> {
  const loaded = await LoadedModel.load(path.join(dir, 'model'), {
    id: 'kv',
    cacheDir: path.join(dir, 'cache'),
    provider: 'cpu',
  });
  const sessions = new AnswerSessions();
  try {
    await use(loaded, await sessions.get(loaded, { provider: 'cpu' }));
  } finally {
    await sessions.release();
    await loaded.dispose();
  }
}

test('a given answer is read in one pass, each token with the reference rows at its position', async () => {
  const split = splitAnswer(FILE);
  assert.ok(split);
  await withAnswerSession(async (loaded, session) => {
    const streamed: number[] = [];
    const answer = await readGivenAnswer(loaded, session, split.prompt, split.answer, (_t, read) =>
      streamed.push(read.index),
    );
    const joined = joinAnswer(split.prompt, split.answer);
    assert.equal(answer.text, joined.text.slice(joined.boundary));
    assert.equal(answer.text.trim(), 'The dog sat there too.');
    assert.equal(answer.tokens.map((t) => answer.text.slice(t.start, t.end)).join(''), answer.text);
    assert.deepEqual(
      streamed,
      answer.tokens.map((_, i) => i),
    );
    // The prompt's ids: the joined text's tokens before the first one reaching into the answer.
    const full = loaded.tokenizer.tokenize(joined.text);
    const promptCount = full.ids.length - answer.tokens.length;
    assert.deepEqual(
      answer.tokens.map((t) => t.id),
      full.ids.slice(promptCount),
    );
    const reference = referenceForward(weights, full.ids);
    const n = full.ids.length;
    let worst = 0;
    answer.rows.forEach((layers, i) => {
      const position = promptCount + i;
      for (let l = 0; l < SHAPE.layers; l++) {
        const keys = layers[l].length / SHAPE.heads;
        assert.equal(keys, position + 1);
        for (let h = 0; h < SHAPE.heads; h++)
          for (let k = 0; k < keys; k++)
            worst = Math.max(
              worst,
              Math.abs(reference.probs[l][h * n * n + position * n + k] - layers[l][h * keys + k]),
            );
      }
    });
    assert.ok(worst < 1e-4, `largest row difference ${worst}`);
  });
});

test('an empty given answer is a one-line error', async () => {
  await withAnswerSession(async (loaded, session) => {
    await assert.rejects(readGivenAnswer(loaded, session, 'The cat', '  \n'), /answer after ---answer--- is empty/);
  });
});
