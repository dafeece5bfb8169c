// Scenario 2: hover a token in the panel; other tokens get shaded (data-weight > 0) and the editor shows
// decorations on the attended spans.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROMPT_MD, SECOND_PARAGRAPH } from './harness/fixtures';
import { useScenario } from './harness/scenario';
import { editorDecorations, INSPECT_COMMAND, LONG, openFile, runCommand, screenshot, selectLines, waitForTokens, waitUntil } from './harness/workbench';

const SCENARIO = 'hover';
const scenario = useScenario(SCENARIO, { workspaceFiles: { 'prompt.md': PROMPT_MD } });

test('hovering a token shades the tokens it attends to and decorates them in the editor', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'prompt.md');
  await selectLines(page, SECOND_PARAGRAPH.first, SECOND_PARAGRAPH.last);
  await runCommand(page, INSPECT_COMMAND);
  const tokens = await waitForTokens(page);
  assert.equal(await editorDecorations(page, 'prompt.md').count(), 0, 'decorations before any hover');

  // A late token (the last word): in a causal model it attends to many earlier ones.
  const count = await tokens.count();
  const targetIndex = count - 2;
  const target = tokens.nth(targetIndex);
  assert.equal(Number(await target.getAttribute('data-token-index')), targetIndex);
  await target.hover();
  const weights = await waitUntil('other tokens to be shaded', async () => {
    const now = await tokens.evaluateAll((nodes) => nodes.map((node) => Number((node as HTMLElement).dataset.weight ?? '0')));
    return now.filter((weight, index) => index !== targetIndex && weight > 0).length >= 3 ? now : undefined;
  });
  // Causal attention: nothing after the hovered token is attended to.
  assert.ok(weights.slice(targetIndex + 1).every((weight) => weight === 0), `a later token got weight: ${weights.join(',')}`);

  await editorDecorations(page, 'prompt.md').first().waitFor({ state: 'attached', timeout: LONG });
  assert.ok(await editorDecorations(page, 'prompt.md').count() >= 2);
  await screenshot(page, SCENARIO, 'hover');
});
