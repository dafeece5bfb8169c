// The panel at 8,192 tokens with overview tiles and no rows (rows on demand): the head-grid thumbnails draw the
// tiles (they are blank without them: the same payload less its tiles paints one colour), and the matrix
// overview says it comes from the tiles rather than an estimate from per-token figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { longResult } from '../helpers/longResult';
import { skipWithoutChromium as skip, useBrowser } from './browserLaunch';
import { openPanelPage, send } from './panelPage';

const browser = useBrowser();
const N = 8192;

/** Per thumbnail, how many distinct pixel colours its background image has. */
async function thumbnailColours(page: Page): Promise<number[]> {
  return page.evaluate(async () => {
    const thumbs = [...document.querySelectorAll<HTMLElement>('.hg-cell .hg-thumb')];
    const counts: number[] = [];
    for (const thumb of thumbs) {
      const url = /url\("?(.*?)"?\)/.exec(thumb.style.backgroundImage)?.[1];
      if (!url) {
        counts.push(0);
        continue;
      }
      const image = new Image();
      image.src = url;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d');
      if (!context) throw new Error('no 2d context');
      context.drawImage(image, 0, 0);
      const pixels = new Uint32Array(context.getImageData(0, 0, image.width, image.height).data.buffer);
      counts.push(new Set(pixels).size);
    }
    return counts;
  });
}

async function showLong(page: Page, tiles: boolean): Promise<void> {
  const { layers, summary, source, cost: _cost, ...header } = longResult(N, 3, 2, { tiles });
  assert.equal(header.tokens.length, N);
  await send(page, { kind: 'source', requestId: 1, source });
  await send(page, { kind: 'header', requestId: 1, header });
  for (const layer of layers) await send(page, { kind: 'layer', requestId: 1, layer });
  await send(page, { kind: 'summary', requestId: 1, summary });
  await page.waitForSelector('[data-token-index="0"]');
  await page.waitForFunction(() => document.querySelectorAll('.hg-cell.pending').length === 0);
}

test(
  '8,192 tokens with tiles and no rows: the thumbnails draw the tiles, the overview reads them',
  { skip },
  async () => {
    const { page, context, errors } = await openPanelPage(browser(), 'panel-long-tiles');
    await showLong(page, true);
    const colours = await thumbnailColours(page);
    assert.equal(colours.length, 3 * 2, 'one thumbnail per layer and head');
    for (const [i, count] of colours.entries()) assert.ok(count > 2, `thumbnail ${i} has ${count} colours`);
    const readout = (await page.textContent('.matrix-readout')) ?? '';
    assert.ok(/from tiles of 256 × 256 tokens/.test(readout), readout);
    assert.ok(!/estimated from per-token figures/.test(readout), readout);
    assert.deepEqual(errors, []);
    await context.close();
  },
);

test('8,192 tokens without tiles nor rows: the thumbnails are blank (what the tiles fix)', { skip }, async () => {
  const { page, context, errors } = await openPanelPage(browser(), 'panel-long-no-tiles');
  await showLong(page, false);
  const colours = await thumbnailColours(page);
  assert.equal(colours.length, 3 * 2);
  for (const [i, count] of colours.entries()) assert.ok(count <= 1, `thumbnail ${i} has ${count} colours`);
  assert.deepEqual(errors, []);
  await context.close();
});
