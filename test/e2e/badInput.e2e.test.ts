// Scenario 4: bad input. The command on an empty file, and the model setting pointed at a folder with no
// model: each gets a clear one-line message, nothing crashes, and the next inspection works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { PROMPT_MD, SECOND_PARAGRAPH } from './harness/fixtures';
import { useScenario } from './harness/scenario';
import { setUserSetting } from './harness/settings';
import {
  dismissNotifications,
  INSPECT_COMMAND,
  inspectorFrame,
  LONG,
  notificationTexts,
  openFile,
  runCommand,
  screenshot,
  selectLines,
  waitForNotification,
  waitForPanelError,
  waitForTokens,
} from './harness/workbench';

const SCENARIO = 'bad-input';
const scenario = useScenario(SCENARIO, {
  workspaceFiles: { 'prompt.md': PROMPT_MD, 'empty.md': '', 'no-model/README.md': 'This folder holds no model.\n' },
});

/** One line, says what is wrong, and names no stack frame. */
function assertClearMessage(message: string, pattern: RegExp): void {
  assert.match(message, pattern);
  assert.ok(!/\n\s*at |\bundefined\b|\[object /.test(message), `unclear message: ${message}`);
}

async function assertNothingCrashed(): Promise<void> {
  const { page } = scenario().workbench;
  const texts = await notificationTexts(page);
  assert.ok(!texts.some((text) => /terminated unexpectedly|crashed|has stopped/i.test(text)), texts.join('\n'));
}

test('inspecting an empty file says there is nothing to inspect', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'empty.md');
  await runCommand(page, INSPECT_COMMAND);
  const toast = await waitForNotification(page, /Prompt Attention: .*(empty|nothing to inspect)/i);
  assertClearMessage(toast, /empty|nothing to inspect/i);
  assertClearMessage(await waitForPanelError(page), /empty|nothing to inspect/i);
  await screenshot(page, SCENARIO, '1-empty-file');
  await assertNothingCrashed();
  await dismissNotifications(page);
});

test('a model folder with no model gets a clear message naming the folder', async () => {
  const { page } = scenario().workbench;
  const { server } = scenario();
  const folder = path.join(server.workspace, 'no-model');
  await setUserSetting(page, server.userSettingsFile, 'promptAttention.model', folder);
  await openFile(page, 'prompt.md');
  await selectLines(page, SECOND_PARAGRAPH.first, SECOND_PARAGRAPH.last);
  await runCommand(page, INSPECT_COMMAND);
  const banner = inspectorFrame(page).locator('.banner.error', { hasText: 'no-model' });
  await banner.waitFor({ state: 'visible', timeout: LONG });
  assertClearMessage(await banner.innerText(), /no-model/);
  assertClearMessage(await waitForNotification(page, /no-model/), /no-model/);
  await screenshot(page, SCENARIO, '2-no-model');
  await assertNothingCrashed();
  await dismissNotifications(page);
});

test('after both errors, the next inspection works', async () => {
  const { page } = scenario().workbench;
  const { server } = scenario();
  await setUserSetting(page, server.userSettingsFile, 'promptAttention.model', '');
  await openFile(page, 'prompt.md');
  await selectLines(page, SECOND_PARAGRAPH.first, SECOND_PARAGRAPH.last);
  await runCommand(page, INSPECT_COMMAND);
  const tokens = await waitForTokens(page);
  assert.ok((await tokens.count()) >= 10);
  assert.equal(await inspectorFrame(page).locator('.banner.error').isVisible(), false);
  await screenshot(page, SCENARIO, '3-recovered');
  await assertNothingCrashed();
});
