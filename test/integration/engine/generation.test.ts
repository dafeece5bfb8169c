// Generation with attention captured, against the float64 reference decoder: a torch-style export with a
// KV cache (past_key_values) continues a prompt greedily; every generated token must be the reference's
// argmax at its position, and every captured row (per layer and head, over the prompt and the answer so far)
// must equal the reference's probabilities at that query. Sampling is reproducible by seed; the embedded
// proxy (no cache inputs) generates the same greedy tokens as the plain logits session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { GenerationSession } from '../../../src/engine/runtime/generationSession';
import { readModelConfig } from '../../../src/engine/runtime/modelConfig';
import { LogitsSession } from '../../../src/engine/runtime/logitsSession';
import { writeKvExportFolder } from '../../helpers/kvExportFolder';
import { randomDecoder, referenceForward, type DecoderShape } from '../../helpers/referenceDecoder';
import { makeTempDir, removeTempDir } from '../../helpers/tinyModel';

const SHAPE: DecoderShape = {
  vocabSize: 300,
  hidden: 64,
  layers: 2,
  heads: 4,
  kvHeads: 2,
  intermediate: 96,
  maxPositions: 128,
};
const EMBEDDED = path.resolve(__dirname, '..', '..', '..', 'models', 'pa-mini-llama');
let dir = '';

before(async () => {
  dir = await writeKvExportFolder(await makeTempDir(), randomDecoder(SHAPE, 9));
});
after(() => removeTempDir(dir));

const PROMPT = [5, 17, 42, 99, 3, 250, 7, 64, 12, 180];

test('greedy tokens and every captured row equal the float64 reference, through the KV cache', async () => {
  const config = await readModelConfig(dir);
  const session = await GenerationSession.open(dir, config, { provider: 'cpu' });
  try {
    assert.equal(session.kvCache, true);
    const streamed: number[] = [];
    const tokens = await session.generate(PROMPT, { maxTokens: 8, onToken: (t) => streamed.push(t.index) });
    assert.equal(tokens.length, 8);
    assert.deepEqual(streamed, [0, 1, 2, 3, 4, 5, 6, 7]);
    const ids = [...PROMPT, ...tokens.map((t) => t.id)];
    const reference = referenceForward(randomDecoder(SHAPE, 9), ids);
    const n = ids.length;
    const V = SHAPE.vocabSize;
    let worst = 0;
    tokens.forEach((token, i) => {
      const position = PROMPT.length + i;
      // The token is the reference's argmax after the position before it.
      const row = reference.logits.subarray((position - 1) * V, position * V);
      let best = 0;
      for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
      assert.equal(token.id, best, `token ${i}`);
      assert.equal(token.keys, position + 1);
      for (let l = 0; l < SHAPE.layers; l++)
        for (let h = 0; h < SHAPE.heads; h++)
          for (let k = 0; k < n; k++) {
            const expected = reference.probs[l][h * n * n + position * n + k];
            const got = k < token.keys ? token.rows[l][h * token.keys + k] : 0;
            worst = Math.max(worst, Math.abs(expected - got));
          }
    });
    assert.ok(worst < 1e-4, `largest row difference ${worst}`);
    // Greedy is deterministic.
    const again = await session.generate(PROMPT, { maxTokens: 8 });
    assert.deepEqual(
      again.map((t) => t.id),
      tokens.map((t) => t.id),
    );
  } finally {
    await session.dispose();
  }
});

test('sampling with a temperature is reproducible by seed, and a stop token ends the answer', async () => {
  const config = await readModelConfig(dir);
  const session = await GenerationSession.open(dir, config, { provider: 'cpu' });
  try {
    const a = await session.generate(PROMPT, { maxTokens: 12, temperature: 1.5, seed: 4 });
    const b = await session.generate(PROMPT, { maxTokens: 12, temperature: 1.5, seed: 4 });
    const c = await session.generate(PROMPT, { maxTokens: 12, temperature: 1.5, seed: 5 });
    assert.deepEqual(
      a.map((t) => t.id),
      b.map((t) => t.id),
    );
    assert.notDeepEqual(
      a.map((t) => t.id),
      c.map((t) => t.id),
    );
    const stopAt = a[3].id;
    const stopped = await session.generate(PROMPT, {
      maxTokens: 12,
      temperature: 1.5,
      seed: 4,
      stop: (id) => id === stopAt,
    });
    assert.ok(stopped.length <= 3);
  } finally {
    await session.dispose();
  }
});

test('the embedded proxy (no cache inputs) generates what the plain logits session generates', async () => {
  const config = await readModelConfig(EMBEDDED);
  const session = await GenerationSession.open(EMBEDDED, config, { provider: 'cpu' });
  const logits = await LogitsSession.open(EMBEDDED, config, { provider: 'cpu' });
  try {
    assert.equal(session.kvCache, false);
    const prompt = [8190, 300, 41, 1200, 77, 15, 900];
    const tokens = await session.generate(prompt, { maxTokens: 6 });
    const plain = await logits.generate(prompt, 6, () => false, config.maxPositions);
    assert.deepEqual(
      tokens.map((t) => t.id),
      plain,
    );
    for (const t of tokens)
      for (const rows of t.rows)
        for (let h = 0; h < config.heads; h++) {
          const sum = rows.subarray(h * t.keys, (h + 1) * t.keys).reduce((s, v) => s + v, 0);
          assert.ok(Math.abs(sum - 1) < 1e-4, `row sums to ${sum}`);
        }
  } finally {
    await session.dispose();
    await logits.dispose();
  }
});
