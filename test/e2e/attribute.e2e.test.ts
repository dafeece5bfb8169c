// Scenario: a prompt whose answer follows a line ---answer---; "Attribute Answer" runs the ablations and
// the editor shows a CodeLens per section (the paragraph with the code first) and the faint savings hint
// with its hover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useScenario } from './harness/scenario';
import {
  editorDecorations,
  editorFor,
  LONG,
  MEDIUM,
  openFile,
  runCommand,
  screenshot,
  waitForNotification,
} from './harness/workbench';

const SCENARIO = 'attribute';
const PROMPT = [
  'The library opens at nine in the morning and closes at six in the evening on weekdays.',
  'The access code for the archive room is XK-4471. Staff must not share it with visitors.',
  'Visitors may borrow up to five books at a time for three weeks.',
  'The reading room on the second floor is quiet and has forty desks with lamps.',
  'Questions about lost cards go to the front desk, where a new card costs two dollars.',
  'Question: what is the access code for the archive room?\nAnswer: The access code for the archive room is',
].join('\n\n');
const scenario = useScenario(SCENARIO, {
  workspaceFiles: { 'library.md': `${PROMPT}\n---answer---\nXK-4471\n` },
  userSettings: { 'promptAttention.executionProvider': 'cpu' },
});

test("attributing an answer shows each section's effect as a CodeLens and the savings hint", async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'library.md');
  await runCommand(page, 'Prompt Attention: Attribute Answer');
  const summary = await waitForNotification(page, /drives it most/);
  assert.match(summary, /"The access code for the archive room is…" drives it most/);
  const lenses = editorFor(page, 'library.md').locator('.codelens-decoration', { hasText: 'likely without it' });
  await lenses.first().waitFor({ state: 'visible', timeout: MEDIUM });
  const texts = await lenses.allInnerTexts();
  assert.ok(
    texts.some((t) => /#1 of 6/.test(t)),
    `no first-ranked lens in ${texts.join(' | ')}`,
  );
  await screenshot(page, SCENARIO, '1-codelens');
  const faint = editorDecorations(page, 'library.md');
  await faint.first().waitFor({ state: 'visible', timeout: LONG });
  await faint.first().hover();
  const hover = page.locator('.monaco-hover', { hasText: 'A hint, not an edit' }).first();
  await hover.waitFor({ state: 'visible', timeout: MEDIUM });
  assert.match(await hover.innerText(), /saves \d+ tokens/);
  await screenshot(page, SCENARIO, '2-savings-hint');
});
