// The target's count per section, which the panel's Sections card shows beside the inspecting model's count
// and the editor's CodeLens show: checked against counting each section's text on its own with the real
// Llama 3 tokenizer (not through the chunked counter), on the prompt and the corpus's transcripts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { computeCostSummary } from '../../../src/cost/costSummary';
import { computeSectionLenses } from '../../../src/cost/editorModels';
import { IncrementalCounter } from '../../../src/cost/incrementalCounter';
import { loadTokenCounter } from '../../../src/cost/tokenCounters';
import { coverSections } from '../../../src/shared/promptSections';

const CORPUS = path.resolve(__dirname, '..', '..', 'fixtures', 'sections');

for (const name of ['issue-examples-output', 'prompty-with-headings', 'markdown-system-prompt', 'xml-documents-rag']) {
  test(`${name}: the summary's section counts are each section counted alone, and the CodeLens say the same`, async () => {
    const text = fs.readFileSync(path.join(CORPUS, `${name}.prompt`), 'utf8');
    const summary = await computeCostSummary(text, 'llama-3.1-8b');
    assert.equal(summary.tokenizer, 'Llama 3 BPE, 128k');
    const counter = await loadTokenCounter('llama3');
    const cover = coverSections(text);
    const alone = cover.map((s) => counter.count(text.slice(s.start, s.end), s.start === 0));
    assert.deepEqual(
      summary.sections?.map((s) => s.tokens),
      alone,
    );
    assert.deepEqual(
      summary.sections?.map((s) => [s.start, s.end]),
      cover.map((s) => [s.start, s.end]),
    );
    assert.equal(
      alone.reduce((a, b) => a + b, 0),
      summary.tokens,
    );
    const lenses = computeSectionLenses(new IncrementalCounter(counter).update(text), cover);
    assert.deepEqual(
      lenses.map((l) => l.tokens),
      alone.filter((n) => n > 0),
    );
    const shares = lenses.reduce((sum, l) => sum + l.attentionShare, 0);
    assert.ok(Math.abs(shares - 1) < 1e-9, `shares add up to ${shares}`);
  });
}
