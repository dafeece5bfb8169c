// The inspector UI in Debian's Chromium through playwright-core, on the offline HTML report: hover shading
// via data-weight, head selection, keyboard focus, a hostile prompt staying inert, and no network at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { decodeInspectionResult } from '../../src/shared/resultCodec';
import { skipWithoutChromium as skip, useBrowser } from './browserLaunch';
import { hostilePrompt, outputDir, writeReport } from './reportFixture';

const browser = useBrowser();

interface Opened {
  page: Page;
  requests: string[];
  errors: string[];
}

async function open(file: string, colorScheme: 'dark' | 'light' = 'dark'): Promise<Opened> {
  const context = await browser().newContext({ colorScheme, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('[data-token-index]');
  await page.waitForFunction(() => !document.querySelector('.hg-cell.pending'));
  return { page, requests, errors };
}

const weights = (page: Page): Promise<number[]> =>
  page.$$eval('[data-token-index]', (els) => els.map((e) => Number((e as HTMLElement).dataset.weight)));

test('the inspector report: hover, heads, keyboard, hostile text, no network', { skip }, async (t) => {
  const report = writeReport('panel', hostilePrompt);
  t.diagnostic(`attention from: ${report.source}`);
  const { page, requests, errors } = await open(report.file);
  const n = await page.$$eval('[data-token-index]', (els) => els.length);
  assert.ok(n > 20);

  // The hostile prompt is visible text and ran nothing.
  const shown = await page.$eval('.tokens', (e) => e.textContent ?? '');
  assert.ok(shown.includes('<script>window.__pwned = 1</script>'), 'script tag shown as text');
  assert.ok(shown.includes('<img src=x onerror="window.__pwned = 2">'), 'img tag shown as text');
  assert.equal(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned), undefined);
  assert.equal(await page.$$eval('img', (e) => e.length), 0);
  assert.equal(await page.$$eval('script', (e) => e.length), 2, 'only the data block and the bundle');

  // Hover shades the attended tokens and marks their weight; the tooltip lists exact weights.
  assert.ok((await weights(page)).every((w) => w === 0));
  const target = n - 3;
  await page.hover(`[data-token-index="${target}"]`);
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLElement>('[data-token-index]')].some((e) => e.dataset.weight !== '0'),
  );
  const hovered = await weights(page);
  assert.ok(hovered.some((w) => w > 0));
  assert.ok(
    hovered.slice(target + 1).every((w) => w === 0),
    'causal: nothing after the query is attended',
  );
  assert.ok(hovered.reduce((a, b) => a + b, 0) <= 1.05);
  assert.equal(await page.$eval('.tooltip', (e) => (e as HTMLElement).hidden), false);
  assert.ok(await page.$eval(`[data-token-index="${target}"]`, (e) => e.classList.contains('focus')));
  await page.screenshot({ path: path.join(outputDir, 'panel-dark.png'), fullPage: true });

  // "Attended by" reads the column: only tokens at or after the focus are shaded.
  await page.evaluate(() => {
    const s = document.querySelector('#direction') as HTMLElement & { value: string };
    s.value = 'by';
    s.dispatchEvent(new Event('change'));
  });
  await page.hover('[data-token-index="3"]');
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLElement>('[data-token-index]')].slice(4).some((e) => e.dataset.weight !== '0'),
  );
  assert.ok((await weights(page)).slice(0, 3).every((w) => w === 0));

  // Selecting a head in the grid selects it in the controls and changes the weights.
  const before = await weights(page);
  await page.click('.hg-cell[data-layer="1"][data-head="2"]');
  await page.waitForFunction(() =>
    document.querySelector('.hg-cell[data-layer="1"][data-head="2"]')?.classList.contains('selected'),
  );
  assert.equal(await page.$eval('#layer', (e) => (e as HTMLElement & { value: string }).value), '1');
  assert.equal(await page.$eval('#head', (e) => (e as HTMLElement & { value: string }).value), '2');
  await page.hover('[data-token-index="4"]');
  await page.hover('[data-token-index="3"]');
  await page.waitForTimeout(50);
  assert.notDeepEqual(await weights(page), before);

  // Keyboard: arrows move a pinned focus, Escape clears it.
  await page.mouse.move(0, 0);
  await page.focus('.tokens');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.querySelector('.tok.focus')?.getAttribute('data-token-index') === '1');
  assert.match((await page.$eval('.tok.focus', (e) => e.getAttribute('aria-label'))) ?? '', /^Token 1 /);
  await page.keyboard.press('ArrowDown');
  const afterDown = Number(await page.$eval('.tok.focus', (e) => e.getAttribute('data-token-index')));
  assert.ok(afterDown > 2, `ArrowDown moved to the next line (token ${afterDown})`);
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('.tok.focus'));
  assert.ok((await weights(page)).every((w) => w === 0));

  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [pathToFileURL(report.file).href], 'the page made no request besides loading itself');

  // Exports download locally (blob:/data: URLs, no network): JSON decodes to the same tokens, the HTML
  // re-opens as a report, the PNG is an image.
  const exported = async (kind: string): Promise<{ name: string; body: Buffer }> => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click(`vscode-button[data-export="${kind}"]`),
    ]);
    const file = await download.path();
    return { name: download.suggestedFilename(), body: readFileSync(file) };
  };
  const json = await exported('json');
  assert.equal(json.name, 'attention.json');
  assert.equal(decodeInspectionResult(json.body.toString('utf8')).tokens.length, n);
  const html = await exported('html');
  assert.ok(html.body.toString('utf8').includes('id="prompt-attention-data"'));
  const png = await exported('png');
  assert.deepEqual([...png.body.subarray(1, 4)], [...Buffer.from('PNG')]);
  writeFileSync(path.join(outputDir, 'export.png'), png.body);
  assert.ok(
    requests.every((u) => !/^(https?|wss?|ftp):/.test(u)),
    `no network request: ${requests.join(', ')}`,
  );
  await page.context().close();
});

test('light theme screenshot; a live theme switch repaints the heatmap', { skip }, async () => {
  const report = writeReport('panel', hostilePrompt);
  const { page, errors } = await open(report.file, 'light');
  await page.hover('[data-token-index="30"]');
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLElement>('[data-token-index]')].some((e) => e.dataset.weight !== '0'),
  );
  await page.screenshot({ path: path.join(outputDir, 'panel-light.png'), fullPage: true });
  // The matrix's empty upper triangle is drawn in the theme's editor background.
  const corner = (): Promise<number[]> =>
    page.$eval('.matrix-canvas', (c) => {
      const canvas = c as HTMLCanvasElement;
      const d = canvas.getContext('2d')!.getImageData(canvas.width - 6, Math.round(canvas.width * 0.15), 1, 1).data;
      return [d[0], d[1], d[2]];
    });
  assert.deepEqual(await corner(), [255, 255, 255]);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForFunction(() => {
    const c = document.querySelector<HTMLCanvasElement>('.matrix-canvas')!;
    return c.getContext('2d')!.getImageData(c.width - 6, Math.round(c.width * 0.15), 1, 1).data[0] < 64;
  });
  assert.deepEqual(await corner(), [0x1f, 0x1f, 0x1f]);
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('2,048 tokens: hover-to-paint measured (info only)', { skip }, async (t) => {
  // 1,934 words tokenize to at least 2,048 tokens; the engine keeps the model's 2,048-token window.
  const words = Array.from({ length: 1934 }, (_, i) => (i % 17 === 16 ? 'line\n' : `w${i % 97}`)).join(' ');
  const report = writeReport('panel-2048', words);
  t.diagnostic(`attention from: ${report.source}`);
  const { page, errors } = await open(report.file);
  const n = await page.$$eval('[data-token-index]', (els) => els.length);
  assert.equal(n, 2048);
  // A string, not a function: the test's TypeScript transform would inject helpers the page lacks.
  // Per hover: the work in the frame that handles it (script + style + layout, from the frame's start),
  // and the latency from the event to the start of the following frame (after paint).
  const samples = await page.evaluate<{ work: number[]; latency: number[] }>(`(async () => {
    const tokens = document.querySelectorAll('[data-token-index]');
    const frame = () => new Promise((r) => requestAnimationFrame((ts) => r(ts)));
    const work = [];
    const latency = [];
    for (let i = 0; i < 30; i++) {
      const el = tokens[Math.floor(((i + 1) * (tokens.length - 1)) / 31)];
      await frame();
      const t0 = performance.now();
      el.dispatchEvent(new PointerEvent('pointerover', { bubbles: true }));
      const frameStart = await frame(); // runs right after the panel's own callback in the same frame
      void document.body.offsetHeight; // force style and layout now
      work.push(performance.now() - frameStart);
      await frame();
      latency.push(performance.now() - t0);
    }
    return { work, latency };
  })()`);
  const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  t.diagnostic(
    `n=${n}: hover work per frame (script+style+layout) median ${median(samples.work).toFixed(1)} ms, max ${Math.max(...samples.work).toFixed(1)} ms; ` +
      `event-to-next-frame median ${median(samples.latency).toFixed(1)} ms (includes waiting for vsync)`,
  );
  // Selecting another head rebuilds the n × n matrix and its bitmap (info only).
  const reselect = await page.evaluate<number[]>(`(async () => {
    const frame = () => new Promise((r) => requestAnimationFrame((ts) => r(ts)));
    const out = [];
    for (const [l, h] of [[0, 1], [2, 5], [3, 7]]) {
      await frame();
      document.querySelector('.hg-cell[data-layer="' + l + '"][data-head="' + h + '"]').click();
      const frameStart = await frame();
      void document.body.offsetHeight;
      out.push(performance.now() - frameStart);
    }
    return out;
  })()`);
  t.diagnostic(
    `n=${n}: selecting a head (matrix rebuild + repaint) ${reselect.map((x) => x.toFixed(0)).join(', ')} ms`,
  );
  const shaded = (await weights(page)).filter((w) => w > 0).length;
  assert.ok(shaded > 0);
  await page.screenshot({ path: path.join(outputDir, 'panel-2048.png') });
  assert.deepEqual(errors, []);
  await page.context().close();
});
