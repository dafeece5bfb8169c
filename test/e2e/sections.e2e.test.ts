// The prompt (# Examples holding User:/Assistant: pairs, then # Output format) in a real workbench: the
// section CodeLens, the panel's Sections card with Examples holding its nested turns and Output format a
// section of its own, the card's target counts equal to the CodeLens counts (same tokenizer: the target's),
// and a default inspection (executionProvider auto, no GPU here) that shows no warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from './harness/paths';
import { useScenario } from './harness/scenario';
import {
  editorFor,
  INSPECT_COMMAND,
  inspectorFrame,
  LONG,
  MEDIUM,
  openFile,
  runCommand,
  screenshot,
  waitForTokens,
  waitUntil,
} from './harness/workbench';

const SCENARIO = 'sections';
const PROMPT = fs.readFileSync(path.join(repoRoot, 'test/fixtures/sections/issue-examples-output.prompt'), 'utf8');
const scenario = useScenario(SCENARIO, { workspaceFiles: { 'support.md': PROMPT } });

test('Examples holds its turns, Output format is its own section, and the counts agree', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'support.md');
  // The CodeLens: one per section, "N tokens · P % of attention", the percents adding up to 100.
  const lenses = editorFor(page, 'support.md').locator('.codelens-decoration', { hasText: 'of attention' });
  const lensTexts = await waitUntil(
    'four section CodeLens',
    async () => {
      const texts = await lenses.allInnerTexts();
      return texts.length === 4 ? texts : undefined;
    },
    LONG,
  );
  const parsed = lensTexts.map((t) => {
    const m = /([\d,]+) tokens? · (<1|\d+) % of attention/.exec(t);
    assert.ok(m, `lens text: ${t}`);
    return { tokens: Number(m[1].replace(/,/g, '')), percent: m[2] === '<1' ? 0 : Number(m[2]) };
  });
  assert.equal(
    parsed.reduce((sum, p) => sum + p.percent, 0),
    100,
    lensTexts.join(' | '),
  );
  await screenshot(page, SCENARIO, '1-codelens');

  // Inspect the whole document with the defaults (executionProvider auto).
  await runCommand(page, INSPECT_COMMAND);
  await waitForTokens(page);
  const panel = inspectorFrame(page);
  const units = panel.locator('.sections-card .section-row:not(.nested)');
  await units.first().waitFor({ state: 'visible', timeout: LONG });
  const rows = await waitUntil('the target counts in the Sections card', async () => {
    const all = await units.evaluateAll((els) =>
      els.map((e) => {
        const d = (e as HTMLElement).dataset;
        return { kind: d.sectionKind, label: d.sectionLabel, tokens: d.tokens, target: d.targetTokens };
      }),
    );
    return all.length && all.every((r) => r.target !== undefined) ? all : undefined;
  });
  assert.deepEqual(
    rows.map((r) => `${r.kind} ${r.label}`),
    ['heading Role', 'heading Rules', 'heading Examples', 'heading Output format'],
  );
  // Same tokenizer (the target's), same sections: the card's target counts are the CodeLens counts.
  assert.deepEqual(
    rows.map((r) => Number(r.target)),
    parsed.map((p) => p.tokens),
  );
  const nested = await panel
    .locator('.sections-card .section-row.nested')
    .evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.sectionKind));
  assert.deepEqual(nested, ['example', 'turn', 'turn', 'example', 'turn', 'turn']);

  // No warning on a default inspection without a GPU: the fallback stays on the badge's tooltip.
  const provider = panel.locator('.chip.provider');
  await provider.waitFor({ state: 'visible', timeout: MEDIUM });
  assert.equal(await panel.locator('.chip.provider.fallback').count(), 0, 'the provider badge warns');
  assert.equal(await panel.locator('.fallback-note').count(), 0, 'a fallback warning is shown');
  assert.equal(await panel.locator('.banner.error').isVisible(), false);
  const counts = await panel.locator('.counts-line').innerText();
  assert.match(counts, /^[\d,]+ tokens for pa-mini-llama · [\d,]+ for Llama 3\.1 8B \(your target\)$/);
  await screenshot(page, SCENARIO, '2-sections');
});
