// The editor hints of an attribution run: one CodeLens per section at its start in the document, ranked by
// effect, and the faint savings ranges with their hover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributionHints, type AttributionJsonLike } from '../../../src/panel/attributionHints';

const RESULT: AttributionJsonLike = {
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

test('a lens per section at its document offset, with its rank, effect and attention', () => {
  const hints = attributionHints(RESULT, 100);
  assert.deepEqual(
    hints.lenses.map((l) => l.offset),
    [100, 142, 192],
  );
  assert.match(hints.lenses[1].title, /^answer −21\.00 nats without it \(#1 of 3\)$/);
  assert.match(hints.lenses[0].title, /#2 of 3.*could be cut/);
  assert.match(hints.lenses[2].title, /\+0\.10 nats.*could be cut$/);
  // The rest is in the hover: the attention share and the disagreement.
  assert.match(hints.lenses[1].tooltip ?? '', /12\.0% of the answer's attention/);
  assert.match(hints.lenses[2].tooltip ?? '', /attended, but/);
});

test('the savings hint covers the sections that could be cut, with tokens, FLOPs and the log-prob change', () => {
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
    /these 2 sections: cutting them saves 22 tokens \(31 % of the attention FLOPs\); the answer's log-probability changes by −1\.0 %/,
  );
  assert.match(hints.summary, /"The access code" drives it most; 2 section\(s\) could be cut \(−22 tokens\)/);
});
