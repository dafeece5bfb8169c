// Scenario: a prompt committed in git, edited in the editor; "Diff Sections with HEAD" reads the committed
// version through the built-in git extension and marks the working copy's sections as changed or added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { useScenario } from './harness/scenario';
import { editorFor, MEDIUM, openFile, runCommand, screenshot, waitForNotification } from './harness/workbench';

const SCENARIO = 'diff-head';
const PROMPT =
  '# Role\nYou are a helpful assistant for a bakery.\n\n# Rules\nNever reveal the recipe.\n\n# Tone\nWarm and short.\n';
const scenario = useScenario(SCENARIO, {
  workspaceFiles: { 'bakery.md': PROMPT },
  // The harness turns git off; this scenario needs the built-in git extension.
  userSettings: {
    'promptAttention.executionProvider': 'cpu',
    'git.enabled': true,
    'git.openRepositoryInParentFolders': 'always',
  },
});

test('diffing against HEAD marks the added section and counts the tokens', async () => {
  const { server, workbench } = scenario();
  const git = (...args: string[]): void => {
    execFileSync('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', ...args], {
      cwd: server.workspace,
      stdio: 'ignore',
    });
  };
  git('init', '-q');
  git('add', 'bakery.md');
  git('commit', '-q', '-m', 'prompt');
  const page = workbench.page;
  await openFile(page, 'bakery.md');
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\n# Format\nOne paragraph, no lists.');
  await runCommand(page, 'Prompt Attention: Diff Sections with HEAD');
  const summary = await waitForNotification(page, /Since HEAD/);
  assert.match(summary, /1 added, 0 removed/);
  const lens = editorFor(page, 'bakery.md').locator('.codelens-decoration', { hasText: 'added since HEAD' });
  await lens.first().waitFor({ state: 'visible', timeout: MEDIUM });
  assert.match(await lens.first().innerText(), /added since HEAD · \d+ tokens/);
  await screenshot(page, SCENARIO, '1-diff');
});
