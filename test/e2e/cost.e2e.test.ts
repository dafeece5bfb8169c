// Scenario 3: type into a prompt file until it crosses the warning threshold of a small-context target;
// the status bar count follows and a warning appears in the Problems panel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { useScenario } from './harness/scenario';
import { LONG, MEDIUM, openFile, screenshot, waitUntil } from './harness/workbench';

const SCENARIO = 'cost';
const CONTEXT_WINDOW = 128;
const scenario = useScenario(SCENARIO, {
  workspaceFiles: { 'notes.md': '# Notes\n\nStart here.\n' },
  userSettings: {
    // A custom small-context target so a few typed sentences cross its warning threshold (50 % = 64 tokens).
    'promptAttention.cost.presets': [
      { id: 'tiny-e2e', name: 'Tiny E2E', tokenizer: 'llama3', contextWindow: CONTEXT_WINDOW },
    ],
    'promptAttention.cost.target': 'tiny-e2e',
    'promptAttention.cost.warningThreshold': 0.5,
    'promptAttention.cost.errorThreshold': 10,
    'promptAttention.cost.kvCacheBudgetGiB': 0,
  },
});

function costStatus(page: Page) {
  return page.locator('.part.statusbar .statusbar-item', { hasText: /tok ·/ }).first();
}

async function statusCount(page: Page): Promise<number> {
  const text = await costStatus(page).innerText({ timeout: LONG });
  const match = /([\d,]+) tok/.exec(text);
  if (!match) throw new Error(`no token count in the status bar item: ${text}`);
  return Number(match[1].replace(/,/g, ''));
}

test('typing past the warning threshold updates the status bar and warns in the Problems panel', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'notes.md');
  await costStatus(page).waitFor({ state: 'visible', timeout: LONG });
  assert.match(await costStatus(page).innerText(), /of Tiny E2E/);
  let count = await statusCount(page);
  assert.ok(count < CONTEXT_WINDOW / 2, `the file starts at ${count} tokens`);
  await screenshot(page, SCENARIO, '1-start');

  await page.keyboard.press('Control+End');
  const sentence = 'The assistant answers briefly and cites the document it used.\n';
  for (let typed = 0; count < CONTEXT_WINDOW / 2; typed++) {
    assert.ok(typed < 20, `still ${count} tokens after ${typed} sentences`);
    const previous = count;
    await page.keyboard.type(sentence.trimEnd());
    await page.keyboard.press('Enter');
    count = await waitUntil('the status bar count to grow', async () => {
      const now = await statusCount(page);
      return now > previous ? now : undefined;
    });
  }
  // The status item turns to a warning once the threshold is crossed.
  await costStatus(page).locator('.codicon-warning').waitFor({ state: 'visible', timeout: MEDIUM });
  await screenshot(page, SCENARIO, '2-crossed');

  await page.locator('#status\\.problems').click();
  const warning = page.locator('.markers-panel .monaco-list-row', { hasText: /reaches 50/ }).first();
  await warning.waitFor({ state: 'visible', timeout: LONG });
  assert.match(await warning.innerText(), /Tiny E2E/);
  assert.ok((await warning.locator('.codicon-warning').count()) > 0, 'the problem is not a warning');
  await screenshot(page, SCENARIO, '3-problems');
});
