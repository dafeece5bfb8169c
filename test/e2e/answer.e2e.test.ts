// Scenario: the answer strip. Inspect a prompt; Generate in the panel (tokens stream in, each with its
// attention); hover an answer token (the prompt is shaded by what it read); select a span of the answer (the
// Sections card gains its "span needs" column); then Attribute Answer from the editor, whose numbered
// progress shows in the panel's strip (the attribution runs in the inspector's worker, no child process);
// and a text with its own answer after ---answer---: Given answer reads it into the strip, its tokens hover,
// in Rollout and Attention × value norm modes too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
  waitForNotification,
  waitForTokens,
  waitUntil,
} from './harness/workbench';

const SCENARIO = 'answer';
const PROMPT = [
  'The library opens at nine in the morning and closes at six in the evening on weekdays.',
  'The access code for the archive room is XK-4471. Staff must not share it with visitors.',
  'Visitors may borrow up to five books at a time for three weeks.',
  'Question: what is the access code for the archive room?\nAnswer: The access code for the archive room is',
].join('\n\n');
const scenario = useScenario(SCENARIO, {
  workspaceFiles: {
    'library.md': PROMPT,
    'answered.md': `${PROMPT}\n---answer---\nXK-4471\n`,
    'given.md': `${PROMPT}\n---answer---\nThe code is XK-4471.\n`,
  },
  userSettings: { 'promptAttention.executionProvider': 'cpu' },
});

test('Generate, hover an answer token, select a span: the Sections card gains the span column', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'library.md');
  await runCommand(page, INSPECT_COMMAND);
  await waitForTokens(page);
  const panel = inspectorFrame(page);
  await panel.locator('.answer-max').fill('6');
  await panel.locator('#generate').click();
  const answerTokens = panel.locator('.answer-tokens [data-token-index]');
  await answerTokens.first().waitFor({ state: 'visible', timeout: LONG });
  await panel.locator('#generate').waitFor({ state: 'visible', timeout: LONG });
  const count = await answerTokens.count();
  assert.ok(count >= 1 && count <= 6, `${count} answer tokens`);
  await screenshot(page, SCENARIO, '1-generated');

  await answerTokens.nth(count - 1).hover();
  const promptTokens = panel.locator('.tokens:not(.answer-tokens) [data-token-index]');
  await waitUntil('the prompt to be shaded by the answer token', async () => {
    const weights = await promptTokens.evaluateAll((nodes) =>
      nodes.map((node) => Number((node as HTMLElement).dataset.weight ?? '0')),
    );
    return weights.filter((w) => w > 0).length >= 3 ? weights : undefined;
  });
  assert.match(await panel.locator('.focus-line').innerText(), /^Answer token .* reads .* most/);
  await screenshot(page, SCENARIO, '2-hover-answer-token');

  // Select the whole answer by dragging over its tokens.
  const first = await answerTokens.first().boundingBox();
  const last = await answerTokens.nth(count - 1).boundingBox();
  assert.ok(first && last);
  await page.mouse.move(first.x + 1, first.y + first.height / 2);
  await page.mouse.down();
  await page.mouse.move(last.x + last.width - 1, last.y + last.height / 2);
  await page.mouse.up();
  await panel.locator('.sections-list.with-span .section-span').first().waitFor({ state: 'visible', timeout: LONG });
  const cells = await panel.locator('.section-span').allInnerTexts();
  assert.ok(
    cells.some((c) => /nats/.test(c)),
    cells.join(' | '),
  );
  await screenshot(page, SCENARIO, '3-span-column');
});

test('Attribute Answer from the editor shows its progress in the panel and its CodeLens in the editor', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'answered.md');
  await runCommand(page, 'Prompt Attention: Attribute Answer');
  await waitForNotification(page, /drives it most/);
  const lenses = editorFor(page, 'answered.md').locator('.codelens-decoration', { hasText: 'likely without it' });
  await lenses.first().waitFor({ state: 'visible', timeout: MEDIUM });
  await screenshot(page, SCENARIO, '4-attribute-answer');
  // The panel (a tab beside the editor) got the numbered steps as they came; its strip shows the last one.
  await page.locator('.tab', { hasText: 'Attention: library.md' }).first().click();
  await inspectorFrame(page)
    .locator('.answer-attribution', { hasText: /^Attribute Answer: Done$/ })
    .waitFor({ state: 'visible', timeout: MEDIUM });
  await screenshot(page, SCENARIO, '5-progress-in-panel');
});

test('A text with ---answer---: Given answer reads it into the strip, and its tokens hover', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'given.md');
  await runCommand(page, INSPECT_COMMAND);
  await waitForTokens(page);
  const panel = inspectorFrame(page);
  await panel.locator('#read-answer').waitFor({ state: 'visible', timeout: MEDIUM });
  await panel.locator('#read-answer').click();
  await panel
    .locator('.answer-status', { hasText: /tokens of the given answer/ })
    .waitFor({ state: 'visible', timeout: LONG });
  assert.match(await panel.locator('.answer-tokens').innerText(), /XK-4471/);
  const answerTokens = panel.locator('.answer-tokens [data-token-index]');
  await answerTokens.last().hover();
  await waitUntil('the prompt to be shaded by the given answer token', async () => {
    const weights = await panel
      .locator('.tokens:not(.answer-tokens) [data-token-index]')
      .evaluateAll((nodes) => nodes.map((node) => Number((node as HTMLElement).dataset.weight ?? '0')));
    return weights.filter((w) => w > 0).length >= 3 ? weights : undefined;
  });
  await screenshot(page, SCENARIO, '6-given-answer');

  // In Rollout mode and in Attention × value norm mode, an answer token shows those weights too.
  const setMode = (mode: string): Promise<void> =>
    panel.locator('#mode').evaluate((select, value) => {
      (select as HTMLSelectElement).value = value;
      select.dispatchEvent(new Event('change'));
    }, mode);
  const focusLine = panel.locator('.focus-line');
  await setMode('rollout');
  await answerTokens.first().hover();
  await answerTokens.last().hover();
  await waitUntil('the rollout of the answer token', async () =>
    /rollout through every layer/.test(await focusLine.innerText()) ? true : undefined,
  );
  await setMode('value-norm');
  await answerTokens.first().hover();
  await answerTokens.last().hover();
  await waitUntil('the value-norm weights of the answer token', async () =>
    /attention × value norm/.test(await focusLine.innerText()) ? true : undefined,
  );
  await setMode('attention');
});
