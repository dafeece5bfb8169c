// The extension's details page in the Extensions view: the README a user reads first, with every image (the
// screenshots in media/, shipped in the VSIX, linked relatively) loaded, and the extension's icon.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useScenario } from './harness/scenario';
import { LONG, screenshot, waitUntil } from './harness/workbench';

const SCENARIO = 'details-page';
const scenario = useScenario(SCENARIO, { workspaceFiles: { 'prompt.md': '# Notes\n\nStart here.\n' } });

test('the details page shows the README for users with every image loaded', async () => {
  const { page } = scenario().workbench;
  await page.locator('.activitybar .action-item a[aria-label^="Extensions"]').first().click();
  const item = page.locator('.extensions-viewlet .extension-list-item', { hasText: 'Prompt Attention' }).first();
  await item.waitFor({ state: 'visible', timeout: LONG });
  await item.click();
  const details = page.locator('.extension-editor');
  await details.waitFor({ state: 'visible', timeout: LONG });
  const readme = page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
  await readme.locator('h1', { hasText: 'Prompt Attention' }).waitFor({ state: 'visible', timeout: LONG });
  // The page opens with what the extension does and how to use it; building and testing come later.
  const headings = await readme.locator('h2').allInnerTexts();
  assert.equal(headings[0], 'Use it in VS Code', headings.join(' | '));
  assert.ok(headings.indexOf('Development') > 0, headings.join(' | '));
  const images = readme.locator('img');
  const count = await images.count();
  assert.ok(count >= 3, `${count} images`);
  const loaded = await waitUntil('every README image to load', async () => {
    const states = await images.evaluateAll((nodes) =>
      nodes.map((node) => {
        const img = node as HTMLImageElement;
        return { src: img.getAttribute('src') ?? '', complete: img.complete, width: img.naturalWidth };
      }),
    );
    return states.every((s) => s.complete) ? states : undefined;
  });
  const broken = loaded.filter((s) => s.width === 0).map((s) => s.src);
  assert.deepEqual(broken, [], `broken images: ${broken.join(', ')}`);
  assert.ok(
    loaded.every((s) => !/^https?:/.test(s.src)),
    `an image link was rewritten: ${loaded.map((s) => s.src).join(', ')}`,
  );
  const icon = details.locator('.header .icon-container img.icon').first();
  await icon.waitFor({ state: 'visible', timeout: LONG });
  assert.ok(await icon.evaluate((img) => (img as HTMLImageElement).naturalWidth > 0), 'the icon did not load');
  await screenshot(page, SCENARIO, '1-details');
});
