// The token view at long lengths (rows on demand, 6,000 tokens): a hover shades from the exact row the host
// sends, but only the tokens near the screen are elements (an exact row changes nearly every token's weight);
// scrolling draws and shades the tokens it brings in, from the same row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipWithoutChromium as skip, useBrowser } from './browserLaunch';
import { openPanelPage, posted, send, sendLongResult } from './panelPage';

const browser = useBrowser();

test(
  'long token view: a hover shades the tokens near the screen, a scroll the ones it brings in',
  { skip },
  async () => {
    const { page, context } = await openPanelPage(browser(), 'panel-long-tokens');
    const n = await sendLongResult(page, 6000, 2, 2);
    const query = 40;
    await page.hover(`[data-token-index="${query}"]`);
    await page.waitForFunction(() =>
      (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'attention-row'),
    );
    // Every layer's row: uniform over the keys up to the query, and one far key (5,000) the strongest.
    for (const request of (await posted(page)).filter((m) => m.type === 'attention-row')) {
      if (request.type !== 'attention-row') continue;
      const weights = new Float32Array(n);
      for (let k = 0; k <= query; k++) weights[k] = 0.5 / (query + 1);
      weights[5000] = 0.5;
      const { requestId, inspection, layer, head } = request;
      await send(page, { kind: 'attention-row', inReplyTo: requestId, inspection, layer, head, query, weights });
    }
    await page.waitForFunction(() => document.querySelector('.focus-line')?.textContent?.includes('exact row'));
    const weightOf = (i: number): Promise<number> =>
      page.$eval(`[data-token-index="${i}"]`, (e) => Number((e as HTMLElement).dataset.weight ?? '0'));
    const near = await weightOf(10);
    assert.ok(near > 0, 'a token on screen is shaded');
    assert.equal(await page.$('[data-token-index="5000"]'), null, 'a token far below the screen is not drawn yet');
    // Pin it, so leaving the token view to scroll keeps the focus; then scroll token 5,000 on screen.
    await page.click(`[data-token-index="${query}"]`);
    await page.$eval('.tokens', (v, at) => (v.scrollTop = v.scrollHeight * at), 5000 / n);
    await page.waitForSelector('[data-token-index="5000"]');
    await page.$eval('[data-token-index="5000"]', (e) => e.scrollIntoView({ block: 'center' }));
    await page.waitForFunction(
      () => Number(document.querySelector<HTMLElement>('[data-token-index="5000"]')?.dataset.weight ?? '0') > 0,
    );
    assert.ok((await weightOf(5000)) > near, 'the far key, now on screen, is the strongest');
    await context.close();
  },
);
