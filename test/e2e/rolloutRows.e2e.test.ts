// Rollout rows on demand in code-server: a prompt of about 2,000 tokens (rows on demand: the graph computes no
// rollout), Rollout mode, then a hover on screen and, after scrolling to the end, a hover on a late token each
// read their exact rollout rows, which the worker computes in the background from the Q and K it kept (the
// panel's "Rollout: computing the rows on screen…" line meanwhile). The rollout keeps some of a token's weight
// on itself (the residual's ½I in every layer) and puts nothing after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LONG_MD } from './harness/fixtures';
import { useScenario } from './harness/scenario';
import { inspectLongFile, LONG, LONG_FILE, screenshot, waitUntil } from './harness/workbench';

const SCENARIO = 'rollout-rows';
const scenario = useScenario(SCENARIO, { workspaceFiles: { [LONG_FILE]: LONG_MD } });

test('Rollout mode on a long prompt: the rows on screen come on demand and a hover reads them', async () => {
  const { page } = scenario().workbench;
  const { panel, tokens, count } = await inspectLongFile(page);
  await panel.locator('#mode').evaluate((select) => {
    (select as HTMLSelectElement).value = 'rollout';
    select.dispatchEvent(new Event('change'));
  });
  const weightsOf = (): Promise<number[]> =>
    tokens.evaluateAll((nodes) => nodes.map((node) => Number((node as HTMLElement).dataset.weight ?? '0')));
  const exactRow = async (index: number, what: string): Promise<void> => {
    await tokens.nth(index).hover();
    const line = await waitUntil(
      what,
      async () => {
        const text = await panel.locator('.focus-line').innerText();
        return text.includes('exact row') ? text : undefined;
      },
      LONG,
    );
    assert.match(line, new RegExp(`^Hover: #${index} `));
    const weights = await weightsOf();
    assert.ok(weights[index] > 0, 'the token itself is shaded');
    assert.ok(weights.slice(0, index).filter((w) => w > 0).length >= 3, 'earlier tokens are shaded');
    assert.ok(
      weights.slice(index + 1).every((w) => w === 0),
      'nothing after the token',
    );
  };
  await exactRow(30, 'the rollout row of a token on screen');
  assert.equal(await panel.locator('.rollout-line').isHidden(), true, 'the line goes once the rows are in');
  await screenshot(page, SCENARIO, '1-rollout-on-screen');
  const late = count - 3;
  await tokens.nth(late).scrollIntoViewIfNeeded();
  await exactRow(late, 'the rollout row of a late token');
  await screenshot(page, SCENARIO, '2-rollout-late');
});
