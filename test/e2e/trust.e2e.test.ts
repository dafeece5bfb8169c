// Scenario 6: restricted mode. Workspace trust is on and the folder is not trusted; its settings choose a
// model folder of its own. The extension still runs: token counts in the status bar work, and an
// inspection uses the embedded model, with one line saying the workspace's promptAttention.model was ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROMPT_MD, SECOND_PARAGRAPH } from './harness/fixtures';
import { useScenario } from './harness/scenario';
import {
  INSPECT_COMMAND,
  inspectorFrame,
  LONG,
  openFile,
  runCommand,
  screenshot,
  selectLines,
  waitForNotification,
  waitForTokens,
  waitUntil,
} from './harness/workbench';

const SCENARIO = 'trust';
const scenario = useScenario(SCENARIO, {
  restrictedMode: true,
  workspaceFiles: {
    'prompt.md': PROMPT_MD,
    // What a cloned repository could carry: a model of its own choosing.
    '.vscode/settings.json': JSON.stringify({ 'promptAttention.model': './workspace-model' }, null, 2),
    'workspace-model/README.md': 'Not a model; loading it would fail with "no model".\n',
  },
});

test('the folder opens in restricted mode and the status bar counts tokens', async () => {
  const { page } = scenario().workbench;
  // VS Code marks restricted mode in the status bar (and a banner).
  await page
    .locator('.part.statusbar')
    .getByText(/Restricted Mode/i)
    .first()
    .waitFor({ state: 'visible', timeout: LONG });
  await openFile(page, 'prompt.md');
  const status = page.locator('.part.statusbar .statusbar-item', { hasText: /tok ·/ }).first();
  const count = await waitUntil('a token count in the status bar', async () => {
    const match = /([\d,]+) tok/.exec(await status.innerText().catch(() => ''));
    return match && Number(match[1].replace(/,/g, '')) > 0 ? Number(match[1].replace(/,/g, '')) : undefined;
  });
  assert.ok(count > 20, `only ${count} tokens counted`);
  await screenshot(page, SCENARIO, '1-restricted-counts');
});

test('an inspection ignores the workspace model with one line and runs the embedded model', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'prompt.md');
  await selectLines(page, SECOND_PARAGRAPH.first, SECOND_PARAGRAPH.last);
  await runCommand(page, INSPECT_COMMAND);
  const notice = await waitForNotification(page, /not trusted/i);
  assert.match(notice, /promptAttention\.model setting is ignored; inspecting with the embedded model/);
  assert.ok(!notice.includes('\n'));
  const tokens = await waitForTokens(page);
  assert.ok((await tokens.count()) >= 10);
  const panel = inspectorFrame(page);
  assert.equal(await panel.locator('.banner.error').isVisible(), false, 'the workspace model was loaded');
  await panel.locator('.model-name', { hasText: 'pa-mini-llama' }).waitFor({ state: 'visible', timeout: LONG });
  await screenshot(page, SCENARIO, '2-embedded-model');
});
