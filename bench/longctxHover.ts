// Hover at long lengths in the real webview (`node --import tsx bench/longctxHover.ts [tokens] [hovers]`): an
// 8,192-token inspection of the 0.5B q4 shape as the panel receives it with rows on demand (per-token figures,
// no compact rows), loaded in Chromium with a stand-in for the host that answers each attention-row request
// from ExactRows over Q and K of that shape (random, fp16 Q and fp32 K, as the worker keeps them), through
// playwright's binding (a round trip like the host's). Timed in the page: pointerover → the end of the first
// frame whose focus line says "exact row" (rows computed on demand included), for one layer and for the
// mean over all layers (the default controls: one row per layer).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM, launchChromium } from '../test/browser/browserLaunch';
import { ExactRows } from '../src/engine/benchInternals';
import { longResult } from '../test/helpers/longResult';
import { buildBenchBundles, buildWebviewHarness } from './bundles';
import { harnessPage } from './webviewBench';
import { quantile } from './stats';
import { profilePage } from './pageProfile';
import { REALSIZE_SHAPE } from './realSizeFixture';

const ROOT = path.resolve(__dirname, '..');

function exactRows(n: number): ExactRows {
  const s = REALSIZE_SHAPE;
  const d = s.hidden / s.heads;
  let seed = 1;
  const random = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const layers = Array.from({ length: s.layers }, () => ({
    q: Uint16Array.from({ length: s.heads * n * d }, () => 0x3c00 ^ (Math.floor(random() * 0x3ff) & 0x3ff)),
    k: Float32Array.from({ length: s.kvHeads * n * d }, random),
    heads: s.heads,
    kvHeads: s.kvHeads,
    headDim: d,
    scale: 1 / Math.sqrt(d),
    slidingWindow: null,
    softcap: null,
  }));
  return new ExactRows(n, layers);
}

const PAGE_STUB = `window.acquireVsCodeApi = () => ({
  postMessage(m) {
    if (m && m.type === 'attention-row')
      (window.__fixedRow ? Promise.resolve(window.__fixedRow) : window.__rowHost(m.layer, m.head, m.query))
        .then((w) => window.postMessage({ kind: 'attention-row',
        inReplyTo: m.requestId, inspection: m.inspection, layer: m.layer, head: m.head, query: m.query,
        weights: Float32Array.from(w) }, '*'));
  }, setState() {}, getState() { return undefined; } });`;

/** In the page (plain JS: tsx's name helpers do not exist there): hover `count` late tokens, each until its
 * exact row is painted; returns the times. */
const HOVER_JS = `async (count, frameWork) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => {
    void document.documentElement.offsetHeight;
    resolve(performance.now());
  }));
  // A long text keeps only the lines near the scroll position as elements: scroll to the end, where the late
  // tokens are.
  const view = document.querySelector('.tokens');
  for (let i = 0; i < 4; i++) {
    view.scrollTop = view.scrollHeight;
    await frame();
  }
  const tokens = [...view.querySelectorAll('[data-token-index]')];
  const line = document.querySelector('.focus-line');
  const samples = [];
  for (let i = 0; i < count + 3; i++) {
    const target = tokens[tokens.length - 1 - ((i * 7919) % Math.floor(tokens.length / 4))];
    const t0 = performance.now();
    target.dispatchEvent(new PointerEvent('pointerover', { bubbles: true, pointerType: 'mouse' }));
    let end = await frame();
    while (!((line?.textContent ?? '').includes('exact row') && target.classList.contains('focus'))) end = await frame();
    document.querySelector('.tokens')?.dispatchEvent(new PointerEvent('pointerleave', { bubbles: false }));
    await frame();
    if (!frameWork) {
      if (i >= 3) samples.push(end - t0);
      continue;
    }
    // Again, the row now at hand: the handler plus the work of the frame that paints it (as webviewHarness.ts).
    let frameStart = 0;
    requestAnimationFrame(() => (frameStart = performance.now()));
    const t1 = performance.now();
    target.dispatchEvent(new PointerEvent('pointerover', { bubbles: true, pointerType: 'mouse' }));
    const handled = performance.now();
    const frameEnd = await frame();
    if (!((line?.textContent ?? '').includes('exact row') && target.classList.contains('focus'))) throw new Error('not painted');
    if (i >= 3) samples.push(handled - t1 + (frameEnd - frameStart));
    document.querySelector('.tokens')?.dispatchEvent(new PointerEvent('pointerleave', { bubbles: false }));
    await frame();
  }
  return samples;
}`;

const hoverInPage = (count: number, frameWork = false): string => `(${HOVER_JS})(${count}, ${frameWork})`;

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 8192);
  const hovers = Number(process.argv[3] ?? 40);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed`);
  const bundles = await buildBenchBundles(ROOT, 'bench-longctx-hover');
  const harnessJs = await buildWebviewHarness(ROOT);
  const result = longResult(n, REALSIZE_SHAPE.layers, REALSIZE_SHAPE.heads);
  const rows = exactRows(result.tokens.length);
  const dir = path.join(ROOT, '.cache', 'bench-longctx-hover');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `panel-${n}.html`);
  const stub =
    'window.acquireVsCodeApi = () => ({ postMessage() {}, setState() {}, getState() { return undefined; } });';
  const html = harnessPage(result, bundles, harnessJs);
  if (!html.includes(stub)) throw new Error('the harness page has no acquireVsCodeApi stub to replace');
  writeFileSync(file, html.replace(stub, PAGE_STUB));
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const compute: number[] = [];
    // With a third argument "webview": the page answers itself with one row computed in advance (no round trip),
    // to time the page's own work.
    const fixed = process.argv[4] === 'webview' ? Array.from(rows.row(0, null, rows.n - 1)) : null;
    await page.exposeFunction('__rowHost', (layer: number, head: number | null, query: number) => {
      const t = performance.now();
      const row = Array.from(rows.row(layer, head, query));
      compute.push(performance.now() - t);
      return row;
    });
    await page.goto(pathToFileURL(file).href);
    if (fixed) await page.evaluate(`window.__fixedRow = ${JSON.stringify(fixed)}`);
    const delivery = await page.evaluate(() => window.__benchDeliver());
    const report = (label: string, samples: number[]): void =>
      console.log(
        `${label}: hover → painted exact row p50 ${quantile(samples, 0.5).toFixed(1)} ms, p95 ${quantile(samples, 0.95).toFixed(1)} ms` +
          ` (${samples.length} hovers; row computation p95 ${quantile(compute, 0.95).toFixed(1)} ms per row)`,
      );
    console.log(
      `${result.tokens.length} tokens: first paint ${delivery.firstPaintMs.toFixed(0)} ms, ready ${delivery.readyMs.toFixed(0)} ms`,
    );
    // One layer (what the bench's longctx.hoverP95Ms key times: one row per hover).
    await page.evaluate(
      `(() => { const s = document.getElementById('layer'); s.value = '12'; s.dispatchEvent(new Event('change')); })()`,
    );
    compute.length = 0;
    const stopProfile = await profilePage(context, page);
    report('layer 12, mean over heads', (await page.evaluate(hoverInPage(hovers))) as number[]);
    const work = (await page.evaluate(hoverInPage(hovers, true))) as number[];
    console.log(
      `layer 12, the row at hand: handler + painting frame's work p50 ${quantile(work, 0.5).toFixed(1)} ms, p95 ${quantile(work, 0.95).toFixed(1)} ms`,
    );
    await stopProfile();
    await page.evaluate(
      `(() => { const s = document.getElementById('layer'); s.value = 'all'; s.dispatchEvent(new Event('change')); })()`,
    );
    compute.length = 0;
    report('all layers, mean over heads', (await page.evaluate(hoverInPage(Math.max(5, hovers / 8)))) as number[]);
    if (errors.length > 0) throw new Error(`the webview reported an error: ${errors[0]}`);
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
