// The panel at 8,192 tokens (rows on demand): the token view keeps only the lines near its scroll position as
// elements, with the whole text's scroll height; scrolling to the end shows the last tokens; a late token
// hovered there shows its exact row (asked for on demand); the keyboard reaches both ends; the matrix is an
// overview of blocks, with the focused row drawn in it as it arrived.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { longResult } from '../helpers/longResult';
import { skipWithoutChromium as skip, useBrowser } from './browserLaunch';
import { encodeInspectionResult } from '../../src/shared/resultCodec';
import type { HostMessage } from '../../src/shared/protocol';
import { openPanelPage, posted, send } from './panelPage';

const browser = useBrowser();
const N = 8192;

const tokenElements = (page: Page): Promise<number> => page.$$eval('.tokens [data-token-index]', (e) => e.length);

test(
  '8,192 tokens: a window of token lines, the end reachable, a late token shows its exact row',
  { skip },
  async () => {
    const { page, context, errors } = await openPanelPage(browser(), 'panel-long-8192');
    const result = longResult(N, 3, 2);
    const { layers, summary, source, cost: _cost, ...header } = result;
    const n = header.tokens.length;
    assert.equal(n, N);
    await send(page, { kind: 'source', requestId: 1, source });
    await send(page, { kind: 'header', requestId: 1, header });
    for (const layer of layers) await send(page, { kind: 'layer', requestId: 1, layer });
    await send(page, { kind: 'summary', requestId: 1, summary });
    await page.waitForSelector('[data-token-index="0"]');

    // Far fewer elements than tokens, but the scroll height of the whole text (17 tokens a line: > 400 lines).
    const drawn = await tokenElements(page);
    assert.ok(drawn > 50 && drawn < n / 4, `${drawn} token elements for ${n} tokens`);
    const { scrollHeight, lineHeight } = await page.$eval('.tokens', (v) => ({
      scrollHeight: v.scrollHeight,
      lineHeight: parseFloat(getComputedStyle(v).lineHeight),
    }));
    assert.ok(scrollHeight > 0.9 * (n / 17) * lineHeight, `scroll height ${scrollHeight} px for ${n / 17} lines`);

    // Scrolling to the end shows the last tokens, inside the view.
    for (let i = 0; i < 4; i++) {
      await page.$eval('.tokens', (v) => (v.scrollTop = v.scrollHeight));
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    }
    const last = `[data-token-index="${n - 1}"]`;
    await page.waitForSelector(last);
    const inside = await page.$eval(last, (e) => {
      const box = e.getBoundingClientRect();
      const view = (e.closest('.tokens') as HTMLElement).getBoundingClientRect();
      return box.top >= view.top - 1 && box.bottom <= view.bottom + 1;
    });
    assert.ok(inside, 'the last token is on screen at the end of the scroll');
    assert.ok((await tokenElements(page)) < n / 4, 'still a window at the end');
    assert.equal(await page.$('[data-token-index="0"]'), null, 'the first lines left the document');

    // Hover a late token: its exact rows are asked for and shade the tokens on screen.
    const query = n - 30;
    await page.hover(`[data-token-index="${query}"]`);
    await page.waitForFunction(
      (q) =>
        (window as unknown as { __posted: { type: string; query?: number }[] }).__posted.some(
          (m) => m.type === 'attention-row' && m.query === q,
        ),
      query,
    );
    const strongest = n - 200;
    for (const request of await posted(page)) {
      if (request.type !== 'attention-row' || request.query !== query) continue;
      const weights = new Float32Array(n);
      for (let k = 0; k <= query; k++) weights[k] = 0.5 / (query + 1);
      weights[strongest] += 0.5;
      const { requestId, inspection, layer, head } = request;
      await send(page, { kind: 'attention-row', inReplyTo: requestId, inspection, layer, head, query, weights });
    }
    await page.waitForFunction(() => document.querySelector('.focus-line')?.textContent?.includes('exact row'));
    const line = (await page.textContent('.focus-line')) ?? '';
    assert.ok(line.includes(`#${query}`), line);
    assert.ok(/attends to \S+ 0\.500/.test(line), `the far key leads the exact row: ${line}`);
    const weight = await page.$eval(`[data-token-index="${strongest}"]`, (e) =>
      Number((e as HTMLElement).dataset.weight),
    );
    assert.ok(Math.abs(weight - (0.5 + 0.5 / (query + 1))) < 1e-3, `token ${strongest} shaded by its exact weight`);
    assert.ok((await page.$eval(`[data-token-index="${query}"]`, (e) => e.classList.contains('focus'))) === true);

    // The keyboard reaches the start and the end of the text, drawing the lines it lands on.
    await page.click(`[data-token-index="${query}"]`);
    await page.focus('.tokens');
    await page.keyboard.press('Home');
    await page.waitForSelector('[data-token-index="0"].focus');
    assert.equal(await page.$eval('.tokens', (v) => v.getAttribute('aria-activedescendant')), 'tok-0');
    await page.keyboard.press('End');
    await page.waitForSelector(`[data-token-index="${n - 1}"].focus`);
    assert.equal(await page.$eval('.tokens', (v) => v.getAttribute('aria-activedescendant')), `tok-${n - 1}`);
    // The tooltip follows the token drawn for it.
    await page.waitForFunction(
      (i) => document.querySelector('.tooltip .tt-title')?.textContent?.startsWith(`#${i} `),
      n - 1,
    );

    // The matrix shows blocks (an overview), not n × n cells.
    const box = await page.$eval('.matrix-canvas', (c) => {
      const r = c.getBoundingClientRect();
      return { x: r.left, y: r.top, w: r.width };
    });
    await page.mouse.move(box.x + 56 + 10, box.y + box.w - 12);
    const readout = (await page.textContent('.matrix-readout')) ?? '';
    assert.ok(/block of 16 × 16 tokens/.test(readout), readout);
    assert.ok((await page.$eval('.sections-card', (e) => (e as HTMLElement).hidden)) === false, 'sections card shown');
    assert.deepEqual(errors, []);
    await context.close();
  },
);

test('a long text replaced at once by another leaves only the new one’s tokens', { skip }, async () => {
  const { page, context, errors } = await openPanelPage(browser(), 'panel-long-replaced');
  const headerOf = (n: number, requestId: number): HostMessage => {
    const { layers: _l, summary: _s, source: _src, cost: _c, ...header } = longResult(n, 1, 1);
    return { kind: 'header', requestId, header: { ...header, requestId } };
  };
  const texts = [headerOf(N, 1), headerOf(5000, 2)].map((m) => encodeInspectionResult(m as never));
  // Both in one task: the first text's window still has work queued when the second arrives.
  await page.evaluate(
    (t) => t.forEach((text) => (window as unknown as { __send(s: string): void }).__send(text)),
    texts,
  );
  await page.waitForFunction(() => document.querySelector('.tokens')?.getAttribute('data-tokens') === '5000');
  for (let i = 0; i < 10; i++)
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
  const indexes = await page.$$eval('.tokens [data-token-index]', (els) =>
    els.map((e) => Number((e as HTMLElement).dataset.tokenIndex)),
  );
  assert.ok(indexes.length > 0);
  assert.equal(new Set(indexes).size, indexes.length, 'every token drawn once');
  assert.ok(Math.max(...indexes) < 5000, 'only the new text’s tokens');
  assert.deepEqual(errors, []);
  await context.close();
});
