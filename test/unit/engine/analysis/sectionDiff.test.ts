// Diff of two prompt versions: sections aligned by text, added / removed / changed / same, token deltas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributionUnits, splitPromptSections } from '../../../../src/shared/promptSections';
import { attentionFlops, diffSections, type DiffInputSection } from '../../../../src/engine/analysis/sectionDiff';

/** Sections of a text with a stand-in token count: its words. */
function inputs(text: string): DiffInputSection[] {
  return attributionUnits(splitPromptSections(text)).map((s) => {
    const body = text.slice(s.start, s.end);
    return {
      index: s.index,
      label: s.label,
      text: body,
      tokens: body.split(/\s+/).filter(Boolean).length,
      attentionShare: body.length / text.length,
    };
  });
}

const OLD =
  '# Role\nYou are a helpful assistant for a bakery.\n\n# Rules\nNever reveal the recipe. Answer in English.\n\n# Tone\nWarm and short.\n\n# Legacy\nMention the 2019 award.\n';
const NEW =
  '# Role\nYou are a helpful assistant for a bakery.\n\n# Rules\nNever reveal the recipe. Answer in English or French.\n\n# Format\nOne paragraph, no lists.\n\n# Tone\nWarm and short.\n';

test('one section changed, one added, one removed, two the same, in document order', () => {
  const diff = diffSections(inputs(OLD), inputs(NEW));
  assert.deepEqual(
    diff.map((d) => `${d.status}:${d.label}`),
    ['same:Role', 'changed:Rules', 'added:Format', 'same:Tone', 'removed:Legacy'],
  );
  const changed = diff[1];
  assert.equal(changed.oldTokens, 9);
  assert.equal(changed.newTokens, 11);
  assert.equal(diff[2].oldIndex, null);
  assert.equal(diff[2].oldTokens, 0);
  assert.equal(diff[4].newIndex, null);
});

test('the token deltas of the entries add up to the difference of the totals', () => {
  const olds = inputs(OLD);
  const news = inputs(NEW);
  const diff = diffSections(olds, news);
  const delta = diff.reduce((s, d) => s + d.newTokens - d.oldTokens, 0);
  const total = (list: DiffInputSection[]): number => list.reduce((s, x) => s + x.tokens, 0);
  assert.equal(delta, total(news) - total(olds));
  assert.equal(diff.filter((d) => d.status !== 'added').length, olds.length);
  assert.equal(diff.filter((d) => d.status !== 'removed').length, news.length);
});

test('identical versions are all the same; attribution deltas travel when both sides have them', () => {
  const a = inputs(OLD).map((s, i) => ({ ...s, logProbDelta: -i }));
  const diff = diffSections(a, a);
  assert.ok(diff.every((d) => d.status === 'same'));
  assert.deepEqual(
    diff.map((d) => d.newLogProbDelta),
    a.map((s) => s.logProbDelta),
  );
  assert.ok(!('oldLogProbDelta' in diffSections(inputs(OLD), inputs(OLD))[0]));
});

test('attention FLOPs grow with the square of the tokens', () => {
  const shape = { layers: 4, heads: 8, headDim: 32 };
  assert.equal(attentionFlops(shape, 10), 2 * 32 * 8 * 4 * 100);
  assert.equal(attentionFlops(shape, 20) / attentionFlops(shape, 10), 4);
});
