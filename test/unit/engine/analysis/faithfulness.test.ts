// The faithfulness check refuses cut advice when the prompt does not help the answer. The model here is a
// scripted AttributionModel (no onnxruntime): each token's log-probability is a fixed value, plus a bonus
// per prompt token kept when the prompt "helps". With no help (or too little for the answer's length) the
// result has no savings and the check's measurements; with help, sections that do not matter are cut.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  attributeAnswer,
  requiredMarginNats,
  type AttributionModel,
} from '../../../../src/engine/analysis/attribution';
import type { TokenInfo } from '../../../../src/shared/protocol';

const BOS = 0;

/** Word-level tokens with a BOS; `helpPerToken`: nats each kept prompt token adds to each answer token. */
function scriptedModel(helpPerToken: number): AttributionModel {
  const vocab = new Map<string, number>();
  const idOf = (word: string): number => {
    if (!vocab.has(word)) vocab.set(word, vocab.size + 1);
    return vocab.get(word) as number;
  };
  return {
    tokenize: (text) => {
      const ids: number[] = [BOS];
      const tokens: TokenInfo[] = [{ id: BOS, text: '<s>', start: 0, end: 0, special: true }];
      for (const m of text.matchAll(/\s*\S+/g)) {
        const id = idOf(m[0].trim());
        ids.push(id);
        tokens.push({ id, text: m[0], start: m.index, end: m.index + m[0].length });
      }
      return { ids, tokens };
    },
    decode: (ids) => ids.join(' '),
    isSpecial: (id) => id === BOS,
    maxPositions: 4096,
    answerLogProbs: async (sequences) =>
      sequences.map((s) => {
        const promptTokens = s.answerStart - 1; // BOS aside
        const answer = s.ids.length - s.answerStart;
        return Float64Array.from({ length: answer }, () => -3 + helpPerToken * Math.min(promptTokens, 4));
      }),
    generate: async () => [],
  };
}

const PROMPT = 'First rule here.\n\nSecond rule here.\n\nThird rule here.';
const ANSWER = 'one two three four five six seven eight nine ten eleven twelve';

test('the margin is 1 nat per 10 answer tokens, and never under 1 nat', () => {
  assert.equal(requiredMarginNats(3), 1);
  assert.equal(requiredMarginNats(40), 4);
});

test('a prompt that does not help the answer: no savings, no cut advice, the measurements kept', async () => {
  const result = await attributeAnswer(scriptedModel(0), PROMPT, { text: ANSWER });
  assert.equal(result.faithfulness.passed, false);
  assert.equal(result.faithfulness.marginNats, 0);
  assert.equal(result.faithfulness.logProbWithPrompt, result.answer.logProb);
  assert.equal(result.faithfulness.logProbWithoutPrompt, -3 * 12);
  assert.equal(result.savings, null);
});

test('help below the margin for this answer length is refused too', async () => {
  // 12 answer tokens need 1.2 nats; 4 kept tokens × 0.02 nats × 12 answer tokens = 0.96 nats.
  const result = await attributeAnswer(scriptedModel(0.02), PROMPT, { text: ANSWER });
  assert.ok(Math.abs(result.faithfulness.marginNats - 0.96) < 1e-9);
  assert.ok(Math.abs(result.faithfulness.requiredNats - 1.2) < 1e-9);
  assert.equal(result.faithfulness.passed, false);
  assert.equal(result.savings, null);
});

test('a prompt that helps passes the check, and savings are computed', async () => {
  const result = await attributeAnswer(scriptedModel(1), PROMPT, { text: ANSWER });
  assert.equal(result.faithfulness.passed, true);
  assert.ok(result.faithfulness.marginNats >= 12);
  assert.notEqual(result.savings, null);
});
