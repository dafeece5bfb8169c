// Scenario 5: reload the window; the inspector panel comes back with its inspection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROMPT_MD, SECOND_PARAGRAPH } from './harness/fixtures';
import { useScenario } from './harness/scenario';
import {
  INSPECT_COMMAND,
  openFile,
  runCommand,
  screenshot,
  selectLines,
  waitForTokens,
  waitForWorkbench,
} from './harness/workbench';

const SCENARIO = 'reload';
const scenario = useScenario(SCENARIO, { workspaceFiles: { 'prompt.md': PROMPT_MD } });

test('after a window reload the panel comes back with the same tokens', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'prompt.md');
  await selectLines(page, SECOND_PARAGRAPH.first, SECOND_PARAGRAPH.last);
  await runCommand(page, INSPECT_COMMAND);
  const before = await (await waitForTokens(page)).allInnerTexts();
  await screenshot(page, SCENARIO, '1-before-reload');

  const reloaded = page.waitForEvent('framenavigated', {
    predicate: (frame) => frame === page.mainFrame(),
    timeout: 60_000,
  });
  await runCommand(page, 'Developer: Reload Window');
  await reloaded;
  await waitForWorkbench(page);
  await page
    .locator('.tabs-container .tab', { hasText: 'Attention' })
    .first()
    .waitFor({ state: 'visible', timeout: 90_000 });
  const after = await (await waitForTokens(page)).allInnerTexts();
  assert.deepEqual(after, before);
  await screenshot(page, SCENARIO, '2-after-reload');
});
