// Scenario 1: select a paragraph, run "Inspect Attention" from the command palette; the panel opens,
// shows the tokens of the selection and reports the provider that ran.
// Scenario 2: hover a token in the panel; other tokens get shaded (data-weight > 0) and the editor shows
// decorations on the attended spans.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compact, paragraphText, PROMPT_MD, SECOND_PARAGRAPH } from './harness/fixtures';
import { useScenario } from './harness/scenario';
import {
  editorDecorations,
  INSPECT_COMMAND,
  inspectorFrame,
  LONG,
  MEDIUM,
  openFile,
  runCommand,
  screenshot,
  selectLines,
  waitForTokens,
  waitUntil,
} from './harness/workbench';

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

test('hovering a token shades the tokens it attends to and decorates them in the editor', async () => {
  const { page } = scenario().workbench;
  // Reuses the inspection of scenario 1 when it is on screen (one cold model start per file).
  if (!(await inspectorFrame(page).locator('[data-token-index]').first().isVisible())) {
    await openFile(page, 'prompt.md');
    await selectLines(page, SECOND_PARAGRAPH.first, SECOND_PARAGRAPH.last);
    await runCommand(page, INSPECT_COMMAND);
  }
  const tokens = await waitForTokens(page);
  assert.equal(await editorDecorations(page, 'prompt.md').count(), 0, 'decorations before any hover');

  // A late token (the last word): in a causal model it attends to many earlier ones.
  const count = await tokens.count();
  const targetIndex = count - 2;
  const target = tokens.nth(targetIndex);
  assert.equal(Number(await target.getAttribute('data-token-index')), targetIndex);
  await target.hover();
  const weights = await waitUntil('other tokens to be shaded', async () => {
    const now = await tokens.evaluateAll((nodes) =>
      nodes.map((node) => Number((node as HTMLElement).dataset.weight ?? '0')),
    );
    return now.filter((weight, index) => index !== targetIndex && weight > 0).length >= 3 ? now : undefined;
  });
  // Causal attention: nothing after the hovered token is attended to.
  assert.ok(
    weights.slice(targetIndex + 1).every((weight) => weight === 0),
    `a later token got weight: ${weights.join(',')}`,
  );

  // The hover alone (no click) decorates the attended spans in the editor.
  await editorDecorations(page, 'prompt.md').first().waitFor({ state: 'attached', timeout: LONG });
  assert.ok((await editorDecorations(page, 'prompt.md').count()) >= 2);
  await screenshot(page, SCENARIO, '3-hover');
});
