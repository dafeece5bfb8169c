// Long context: inspect a whole prompt of about 2,000 tokens (the embedded model's context; the 8,192-token
// run of the 0.5B shape is the bench's), hover a token late in the text, and see its exact row: the worker
// computes it from the Q and K it kept, the focus line says "exact row", and the shading covers only tokens
// at or before the hovered one. The head grid and the matrix overview are drawn from the overview tiles (no
// per-head rows are sent: the panel asks for rows on demand).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LONG_MD } from './harness/fixtures';
import { useScenario } from './harness/scenario';
import { inspectLongFile, LONG, LONG_FILE, screenshot, waitUntil } from './harness/workbench';

const SCENARIO = 'long-context';
const scenario = useScenario(SCENARIO, { workspaceFiles: { [LONG_FILE]: LONG_MD } });

test('hovering a late token of a long prompt shows its exact row', async () => {
  const { page } = scenario().workbench;
  const { panel, tokens, count } = await inspectLongFile(page);
  assert.ok((await panel.locator('.hg-cell').count()) > 0, 'a head grid');
  const overview = (await panel.locator('.matrix-readout').textContent()) ?? '';
  assert.match(overview, /from tiles of \d+ × \d+ tokens/);
  const targetIndex = count - 3;
  const target = tokens.nth(targetIndex);
  await target.scrollIntoViewIfNeeded();
  await target.hover();
  const line = await waitUntil(
    'the exact row to arrive',
    async () => {
      const text = await panel.locator('.focus-line').innerText();
      return text.includes('exact row') ? text : undefined;
    },
    LONG,
  );
  assert.match(line, /^Hover: #\d+ /);
  const weights = await tokens.evaluateAll((nodes) =>
    nodes.map((node) => Number((node as HTMLElement).dataset.weight ?? '0')),
  );
  assert.ok(weights.slice(0, targetIndex).filter((w) => w > 0).length >= 3, 'earlier tokens are shaded');
  assert.ok(
    weights.slice(targetIndex + 1).every((w) => w === 0),
    'nothing after the hovered token is attended to',
  );
  await screenshot(page, SCENARIO, '1-exact-row');
});
