// The panel's header, banners and keys in Chromium, on the page as the extension serves it: both token counts
// with their tokenizers, a CPU fallback under auto kept to the badge's tooltip (a warning only for a GPU asked
// for by name), the one-line proxy note with its actions, the cut note's "Inspect around the cursor", the "?"
// glossary, and a failed run that keeps the previous result under an error banner with its actions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { syntheticResult } from '../helpers/syntheticResult';
import { skipWithoutChromium as skip, useBrowser } from './browserLaunch';
import { openPanelPage, send, waitPosted } from './panelPage';
import { outputDir } from './reportFixture';

const browser = useBrowser();

test('header counts, quiet fallback, proxy note, cut note, glossary, failed run', { skip }, async () => {
  const { page, context, errors } = await openPanelPage(browser(), 'panel-header');
  const result = syntheticResult('Rules:\n- Answer briefly.\n- Cite the source.\n\nQuestion: where is the archive?');
  const { layers, summary, source, cost, ...header } = result;
  const auto = { ...header, model: { ...header.model, requestedProvider: 'auto' as const } };
  await send(page, { kind: 'source', requestId: 1, source });
  await send(page, { kind: 'header', requestId: 1, header: auto });
  for (const layer of layers) await send(page, { kind: 'layer', requestId: 1, layer });
  if (cost)
    await send(page, { kind: 'cost', requestId: 1, cost: { ...cost, tokens: 17, tokenizer: 'Llama 3 BPE, 128k' } });
  await send(page, {
    kind: 'summary',
    requestId: 1,
    summary: { ...summary, notes: ['Inspected the first 20 of 57 tokens.'] },
  });
  await page.waitForSelector('.cut-note');

  // Two counts, each with its tokenizer's model.
  const own = header.tokens.filter((t) => !t.special).length;
  assert.equal(
    (await page.textContent('.counts-line'))?.trim(),
    `${own} tokens for pa-mini-llama · 17 for Llama 3.1 8B (your target)`,
  );
  assert.match((await page.getAttribute('.counts-line', 'title')) ?? '', /Llama 3 BPE, 128k/);
  // A fallback under auto: on the tooltip, not a warning.
  assert.equal(await page.locator('.fallback-note').count(), 0);
  assert.equal(await page.locator('.chip.provider.fallback').count(), 0);
  assert.match((await page.getAttribute('.chip.provider', 'title')) ?? '', /provider library not installed/);
  // The proxy note fits in one line, with its action and a "more" toggle.
  const note = await page.locator('.proxy-note').boundingBox();
  assert.ok(note && note.height < 24, `the proxy note is ${note?.height}px high`);
  assert.equal(await page.isVisible('.proxy-more'), false);
  await page.click('.proxy-note button:has-text("more")');
  assert.equal(await page.isVisible('.proxy-more'), true);
  await page.click('.proxy-note #choose-model');
  await waitPosted(page, { type: 'command', command: 'choose-model' });
  // The cut note has the numbers and the way to look elsewhere.
  assert.equal(await page.getAttribute('.cut-note', 'data-inspected'), '20');
  assert.equal(await page.getAttribute('.cut-note', 'data-total'), '57');
  await page.click('#inspect-around');
  await waitPosted(page, { type: 'command', command: 'inspect-around' });
  // The "?" keys.
  await page.click('.heads-card .legend summary');
  assert.match((await page.textContent('.heads-card .legend-list')) ?? '', /induct.*Induction head/s);
  await page.click('.toolbar .legend summary');
  assert.match((await page.textContent('.toolbar .legend-list')) ?? '', /Rollout.*Threshold/s);
  await page.screenshot({ path: path.join(outputDir, 'panel-header.png') });

  // A failed run: the previous tokens stay, dimmed, under an error banner with its actions.
  await send(page, { kind: 'progress', requestId: 2, stage: 'download' });
  await send(page, { kind: 'error', requestId: 2, message: 'Cannot list the files of x/y: fetch failed (ENOTFOUND)' });
  await page.waitForSelector('.banner.error:not([hidden])');
  assert.match((await page.textContent('.banner.error')) ?? '', /fetch failed.*previous result, now stale/s);
  assert.ok(await page.isVisible('[data-token-index="3"]'), 'the previous tokens are gone');
  assert.ok(await page.evaluate(() => document.querySelector('.showing-previous') !== null));
  await page.click('.banner.error #open-settings');
  await waitPosted(page, { type: 'command', command: 'open-settings' });
  await page.click('.banner.error #retry');
  await waitPosted(page, { type: 'rerun' });
  await page.screenshot({ path: path.join(outputDir, 'panel-failed-run.png') });

  // A GPU asked for by name that fell back is a warning.
  const webgpu = { ...header, requestId: 3, model: { ...header.model, requestedProvider: 'webgpu' as const } };
  await send(page, { kind: 'header', requestId: 3, header: webgpu });
  await page.waitForSelector('.fallback-note');
  assert.equal(await page.locator('.chip.provider.fallback').count(), 1);
  assert.deepEqual(errors, []);
  await context.close();
});
