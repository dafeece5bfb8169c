// Scenario 1: select a paragraph, run "Inspect Attention" from the command palette; the panel opens,
// shows the tokens of the selection and reports the provider that ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compact, paragraphText, PROMPT_MD, SECOND_PARAGRAPH } from './harness/fixtures';
import { useScenario } from './harness/scenario';
import { inspectorFrame, LONG, openFile, runCommand, screenshot, selectLines } from './harness/workbench';

const SCENARIO = 'inspect';
const scenario = useScenario(SCENARIO, { workspaceFiles: { 'prompt.md': PROMPT_MD } });

test('inspecting a selected paragraph opens the panel with its tokens and the provider', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'prompt.md');
  await selectLines(page, SECOND_PARAGRAPH.first, SECOND_PARAGRAPH.last);
  await screenshot(page, SCENARIO, '1-selection');
  await runCommand(page, 'Prompt Attention: Inspect Attention');

  const panel = inspectorFrame(page);
  const tokens = panel.locator('[data-token-index]');
  await tokens.first().waitFor({ state: 'visible', timeout: LONG });
  const texts = await tokens.allInnerTexts();
  const selection = paragraphText(PROMPT_MD, SECOND_PARAGRAPH.first, SECOND_PARAGRAPH.last);
  assert.ok(texts.length >= 10, `only ${texts.length} tokens shown`);
  assert.ok(compact(texts.join('')).includes(compact(selection)), `the tokens do not spell the selection: ${texts.join('|')}`);

  const provider = panel.locator('body').filter({ hasText: /\b(cpu|webgpu|cuda|dml|coreml)\b/i });
  await provider.waitFor({ state: 'visible', timeout: LONG });
  await screenshot(page, SCENARIO, '2-panel');
});
