// Rollout rows on demand in Chromium (6,000 tokens, layers without rollout rows): the panel draws at once, then
// in Rollout mode asks the host for the rows on screen and the focused one, says it is computing them with the
// layers done, and once the rows come a hover reads its exact rollout row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RolloutRowsRequest } from '../../src/shared/rolloutRowsRequest';
import { skipWithoutChromium as skip, useBrowser } from './browserLaunch';
import { openPanelPage, posted, send, sendLongResult } from './panelPage';

const browser = useBrowser();

test(
  'rollout rows on demand: asked for the screen, computed in the background, then read by a hover',
  { skip },
  async () => {
    const { page, context, errors } = await openPanelPage(browser(), 'panel-rollout-rows');
    const n = await sendLongResult(page, 6000, 2, 2);
    await page.waitForSelector('#mode');
    await page.evaluate(
      `(() => { const s = document.querySelector('#mode'); s.value = 'rollout'; s.dispatchEvent(new Event('change')); })()`,
    );
    const rolloutAsks = async (): Promise<RolloutRowsRequest[]> =>
      (await posted(page)).filter((m): m is RolloutRowsRequest => m.type === 'rollout-rows');
    await page.waitForFunction(() =>
      (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === 'rollout-rows'),
    );
    const [ask] = await rolloutAsks();
    assert.equal(ask.layer, 1, 'all layers: the rollout through the last');
    assert.ok(ask.queries.length > 10 && ask.queries.length < 1000, `${ask.queries.length} rows asked`);
    assert.ok(ask.queries.includes(0) && !ask.queries.includes(5000), 'the rows on screen, not the far ones');
    // The panel drew without them.
    assert.ok(await page.$('[data-token-index="0"]'));
    const line = (): Promise<string> =>
      page.$eval('.rollout-line', (e) => ((e as HTMLElement).hidden ? '' : (e.textContent ?? '')));
    assert.equal(await line(), 'Rollout: computing the rows on screen in the background (layer 1 of 2)…');
    const base = { inReplyTo: ask.requestId, inspection: ask.inspection, layer: ask.layer } as const;
    await send(page, { kind: 'rollout-progress', ...base, done: 1, of: 2 });
    await page.waitForFunction(() => document.querySelector('.rollout-line')?.textContent?.includes('layer 2 of 2'));
    // Each row: half on the token itself, the rest on the first token.
    const rows = ask.queries.map((q) => {
      const row = new Float32Array(n);
      row[q] += 0.5;
      row[0] += 0.5;
      return row;
    });
    await send(page, { kind: 'rollout-rows', ...base, queries: ask.queries, rows });
    await page.waitForFunction(() => document.querySelector<HTMLElement>('.rollout-line')?.hidden === true);
    const query = ask.queries.find((q) => q > 20) ?? ask.queries[ask.queries.length - 1];
    await page.hover(`[data-token-index="${query}"]`);
    await page.waitForFunction(() => document.querySelector('.focus-line')?.textContent?.includes('exact row'));
    const weightOf = (i: number): Promise<number> =>
      page.$eval(`[data-token-index="${i}"]`, (e) => Number((e as HTMLElement).dataset.weight ?? '0'));
    assert.equal(await weightOf(query), 0.5);
    assert.equal(await weightOf(query - 1), 0);
    assert.equal((await rolloutAsks()).length, 1, 'a held row is not asked again');
    assert.deepEqual(errors, []);
    await context.close();
  },
);
