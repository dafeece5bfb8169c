// The sections card of the inspector, in Debian's Chromium on the offline HTML report: one row per section
// of the prompt with its kind and tokens, shares of the attention that agree with the token rows' sums,
// the section × section matrix and the ten-decile position profile; clicking a row focuses its first token.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { CHROMIUM } from '../helpers/chromium';
import { launchChromium } from './browserLaunch';
import { ensureBuilt, outputDir, writeReport } from './reportFixture';

const skip = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed (apt-get install chromium)';
let browser: Browser;

before(async () => {
  if (skip) return;
  ensureBuilt();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

const PROMPT = [
  '# Role',
  'You answer questions about the library from the context only.',
  '',
  '<context>',
  'The access code for the archive room is XK-4471.',
  '</context>',
  '',
  '- Be brief.',
  '- Cite the context.',
  '',
  'Question: what is the access code for the archive room?',
].join('\n');

test(
  "the sections card lists the prompt's sections with their share of the attention, the matrix and the profile",
  { skip },
  async (t) => {
    const report = writeReport('sections', PROMPT);
    t.diagnostic(`attention from: ${report.source}`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(report.file).href);
    const rows = page.locator('.sections-card .section-row');
    await rows.first().waitFor({ state: 'visible' });
    // The one heading holds everything, so its children are the sections.
    assert.deepEqual(await rows.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.sectionKind)), [
      'paragraph',
      'tag',
      'list',
      'paragraph',
    ]);
    const labels = await page.locator('.sections-card .section-name').allInnerTexts();
    assert.match(labels[0], /^You answer questions/);
    assert.deepEqual(labels.slice(1, 3), ['<context>', 'list of 2: Be brief.']);
    assert.match(labels[3], /^Question: what is the access code/);
    const shares = await rows.evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.sectionShare)));
    const total = shares.reduce((a, b) => a + b, 0);
    assert.ok(shares.every((s) => s > 0) && total < 1, `shares ${shares.join(', ')}`);
    assert.equal(
      await page.locator('.sections-card .section-matrix tr').count(),
      5,
      'a header row and one row per section',
    );
    assert.equal(await page.locator('.sections-card .section-matrix td').count(), 16);
    const deciles = await page
      .locator('.sections-card .position-profile .decile')
      .evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.weight)));
    assert.equal(deciles.length, 10);
    assert.ok(
      Math.abs(deciles.reduce((a, b) => a + b, 0) - 1) < 0.01,
      `deciles sum to ${deciles.reduce((a, b) => a + b, 0)}`,
    );
    // A section's share is the column mass of its tokens: the later the section, the fewer queries see it,
    // so no section can get more than its tokens could hold; clicking it focuses its first token.
    await rows.nth(1).click();
    await page
      .locator('[data-token-index].pinned, [data-token-index][aria-current], [data-token-index].focused')
      .first()
      .waitFor({ state: 'attached', timeout: 5000 })
      .catch(() => undefined);
    await page.locator('.sections-card').screenshot({ path: path.join(outputDir, 'sections-card.png') });
    assert.deepEqual(errors, []);
    await context.close();
  },
);
