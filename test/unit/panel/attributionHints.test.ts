// The editor hints of an attribution run: one CodeLens per section at its start in the document, ranked by
// effect, and the faint savings ranges with their hover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributionHints, type AttributionHintInput } from '../../../src/panel/attributionHints';

const RESULT: AttributionHintInput = {
  model: { id: 'pa-mini-llama', layers: 4, heads: 4, maxTokens: 512, provider: 'cpu', embedded: true },
  faithfulness: { logProbWithPrompt: -20, logProbWithoutPrompt: -45, marginNats: 25, requiredNats: 1, passed: true },
  answer: { text: ' XK-4471', tokens: 6, logProb: -20 },
  sections: [
    {
      index: 0,
      label: 'Opening hours',
      start: 0,
      end: 40,
      tokens: 12,
      ablation: { logProbDelta: -0.5 },
      attention: 0.05,
      disagreement: null,
    },
    {
      index: 1,
      label: 'The access code',
      start: 42,
      end: 90,
      tokens: 15,
      ablation: { logProbDelta: -21 },
      attention: 0.12,
      disagreement: null,
    },
    {
      index: 3,
      label: 'Lost cards',
      start: 92,
      end: 130,
      tokens: 10,
      ablation: { logProbDelta: 0.1 },
      attention: 0.2,
      disagreement: 'attended, but the answer barely depends on it',
    },
  ],
  method: 'leave-one-out',
  savings: { sections: [0, 3], tokens: 22, attentionFlopsShare: 0.31, logProbDelta: -0.2 },
};

test('a lens per section at its document offset, with its rank, effect in words and attention', () => {
  const hints = attributionHints(RESULT, 100);
  assert.deepEqual(
    hints.lenses.map((l) => l.offset),
    [100, 142, 192],
  );
  assert.match(
    hints.lenses[1].title,
    /^the answer becomes 21\.00 nats \(≈ 10\^9×\) less likely without it \(#1 of 3\)$/,
  );
  // The rest is in the hover: the attention share, the unit, the model and the disagreement.
  assert.match(hints.lenses[1].tooltip ?? '', /12\.0% of the answer's attention/);
  assert.match(hints.lenses[1].tooltip ?? '', /natural-log units/);
  assert.match(hints.lenses[0].title, /0\.50 nats \(1\.6×\) less likely.*#2 of 3.*could be cut$/);
  // The answer is slightly more likely without it (within the tolerance): cut, no contradicting label.
  assert.match(hints.lenses[2].title, /0\.10 nats \(1\.1×\) more likely.*could be cut$/);
  assert.match(hints.lenses[2].tooltip ?? '', /could be cut · attended, but/);
  assert.doesNotMatch(hints.lenses[2].tooltip ?? '', /depends on it more/);
});

test('the savings hint covers the sections that could be cut, names the unit and the proxy model', () => {
  const hints = attributionHints(RESULT, 10);
  assert.deepEqual(
    hints.savings.map((s) => [s.start, s.end]),
    [
      [10, 50],
      [102, 140],
    ],
  );
  assert.match(
    hints.savings[0].hover,
    /these 2 sections: cutting them saves 22 tokens \(31 % of the attention FLOPs\); measured together, the answer becomes 0\.20 nats \(1\.2×\) less likely without them \(nats are natural-log units/,
  );
  assert.match(hints.savings[0].hover, /embedded proxy.*does not carry over to a production model/);
  assert.match(hints.summary, /"The access code" drives it most; 2 section\(s\) could be cut \(−22 tokens\)/);
});

test('a section the answer is clearly more likely without is never "could be cut" without comment', () => {
  const against = {
    ...RESULT,
    sections: RESULT.sections.map((s) => (s.index === 3 ? { ...s, ablation: { logProbDelta: 29.89 } } : s)),
  };
  const title = attributionHints(against, 0).lenses[2].title;
  assert.match(title, /more likely without it/);
  assert.match(title, /could be cut, but it works against this answer/);
});

test('a failed faithfulness check: no savings hint, no "could be cut", the measurements in the summary', () => {
  const unused = {
    ...RESULT,
    faithfulness: {
      logProbWithPrompt: -20,
      logProbWithoutPrompt: -20.3,
      marginNats: 0.3,
      requiredNats: 1,
      passed: false,
    },
    savings: null,
  };
  const hints = attributionHints(unused, 0);
  assert.deepEqual(hints.savings, []);
  for (const lens of hints.lenses) assert.doesNotMatch(lens.title, /could be cut/);
  assert.match(
    hints.summary,
    /does not use the prompt for this answer: log-probability -20\.00 with the whole prompt, -20\.30 with an empty prompt/,
  );
});
