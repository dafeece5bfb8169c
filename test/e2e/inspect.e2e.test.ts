// Scenario 1: select a paragraph, run "Inspect Attention" from the command palette; the panel opens,
// shows the tokens of the selection and reports the provider that ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compact, paragraphText, PROMPT_MD, SECOND_PARAGRAPH } from './harness/fixtures';
import { useScenario } from './harness/scenario';
import { INSPECT_COMMAND, inspectorFrame, MEDIUM, openFile, runCommand, screenshot, selectLines, waitForTokens } from './harness/workbench';

const SCENARIO = 'inspect';
const scenario = useScenario(SCENARIO, { workspaceFiles: { 'prompt.md': PROMPT_MD } });

test('inspecting a selected paragraph opens the panel with its tokens and the provider that ran', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'prompt.md');
  await selectLines(page, SECOND_PARAGRAPH.first, SECOND_PARAGRAPH.last);
  await screenshot(page, SCENARIO, '1-selection');
  await runCommand(page, INSPECT_COMMAND);

  const tokens = await waitForTokens(page);
  const texts = await tokens.allInnerTexts();
  const selection = paragraphText(PROMPT_MD, SECOND_PARAGRAPH.first, SECOND_PARAGRAPH.last);
  assert.ok(texts.length >= 10, `only ${texts.length} tokens shown`);
  // The tokens spell the selection (the panel may show whitespace as glyphs and a BOS marker first).
  const spelled = compact(texts.join(''));
  assert.ok(spelled.includes(compact(selection)), `the tokens do not spell the selection: ${texts.join('|')}`);
  assert.ok(!spelled.includes(compact('You are Quill')), 'tokens from outside the selection are shown');

  const panel = inspectorFrame(page);
  const provider = panel.locator('.chip.provider');
  await provider.waitFor({ state: 'visible', timeout: MEDIUM });
  assert.match((await provider.innerText()).trim(), /^(CPU|WEBGPU|CUDA|DML|COREML)$/);
  await panel.getByText(`prompt.md:${SECOND_PARAGRAPH.first}`).first().waitFor({ state: 'visible', timeout: MEDIUM });
  await screenshot(page, SCENARIO, '2-panel');
});
