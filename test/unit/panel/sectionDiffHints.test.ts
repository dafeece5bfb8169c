// The editor hints of a diff against HEAD: a lens per working-copy section with its status and deltas, and
// a summary that names the removed sections.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sectionDiffHints, type DiffHintInput } from '../../../src/panel/sectionDiffHints';

const DOC: DiffHintInput = {
  old: { tokens: 152 },
  new: { tokens: 131 },
  tokenDelta: -21,
  sections: [
    {
      status: 'same',
      newIndex: 0,
      label: 'Hours',
      oldTokens: 23,
      newTokens: 23,
      oldAttentionShare: 0.2,
      newAttentionShare: 0.22,
    },
    {
      status: 'changed',
      newIndex: 1,
      label: 'Borrowing',
      oldTokens: 20,
      newTokens: 22,
      oldAttentionShare: 0.097,
      newAttentionShare: 0.106,
    },
    {
      status: 'removed',
      newIndex: null,
      label: 'Reading room',
      oldTokens: 19,
      newTokens: 0,
      oldAttentionShare: 0.09,
      newAttentionShare: 0,
    },
    {
      status: 'added',
      newIndex: 3,
      label: 'Saturdays',
      oldTokens: 0,
      newTokens: 12,
      oldAttentionShare: 0,
      newAttentionShare: 0.05,
    },
  ],
};

test('lenses on the working copy sections, none for removed ones; the summary counts and names them', () => {
  const starts = new Map([
    [0, 0],
    [1, 88],
    [3, 200],
  ]);
  const hints = sectionDiffHints(DOC, (i) => starts.get(i));
  assert.deepEqual(
    hints.lenses.map((l) => l.offset),
    [0, 88, 200],
  );
  // Two facts on a lens; the attention moves to the hover.
  assert.equal(hints.lenses[1].title, 'changed since HEAD · tokens 20 → 22');
  assert.equal(hints.lenses[1].tooltip, '"Borrowing": 20 → 22 tokens; attention 9.7% → 10.6%.');
  assert.equal(hints.lenses[2].title, 'added since HEAD · 12 tokens');
  assert.match(hints.lenses[2].tooltip ?? '', /5\.0% of the attention/);
  assert.match(
    sectionDiffHints(DOC, (i) => starts.get(i), 'pa-mini-llama').summary,
    /^Since HEAD: 152 → 131 tokens for pa-mini-llama \(−21\)/,
  );
  assert.equal(
    hints.summary,
    'Since HEAD: 152 → 131 tokens (−21); 1 changed, 1 added, 1 removed ("Reading room", −19 tokens).',
  );
});
