// Hover at long lengths in the real webview (`node --import tsx bench/longctxHover.ts [tokens] [hovers]`): an
// 8,192-token inspection of the 0.5B q4 shape as the panel receives it with rows on demand (per-token figures,
// no compact rows), loaded in Chromium with a stand-in for the host that answers each attention-row request
// through the worker's own path (hoverPath.ts: answerAttentionRow over random Q and K of that shape, fp16 Q and
// fp32 K as the worker keeps them, with the engine's row kernel; a third argument "js": the plain loops),
// answered over HTTP from this process, which also serves the page (a local round trip of about a millisecond,
// like the webview ↔ host ↔ worker messages; playwright's binding took ~40 ms here and carried the row as a
// JSON array of 8,192 numbers, which VS Code does not). Timed in the page: pointerover → the end
// of the first frame whose focus line says "exact row" (rows computed on demand included), for one layer and
// for the mean over all layers (the default controls: one row per layer); that frame's end is taken in a task
// queued from its animation-frame callback, so after the app's callbacks of that frame and its rendering.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { hoverPath, shapeRows, type HoverPath } from './hoverPath';
import { quantile } from './stats';
import { profilePage } from './pageProfile';
import { writeFileSync } from 'node:fs';
import { launchChromium } from '../test/browser/browserLaunch';
import { longPanelPage, newPanelPage } from './longPanelPage';

const ROOT = path.resolve(__dirname, '..');

const PAGE_STUB = `window.acquireVsCodeApi = () => ({
  postMessage(m) {
    if (!m || m.type !== 'attention-row') return;
    const ask = 'row?layer=' + m.layer + '&head=' + (m.head === null ? '' : m.head) + '&query=' + m.query;
    (window.__fixedRow ? Promise.resolve(window.__fixedRow.slice(0)) : fetch(ask).then((r) => r.arrayBuffer()))
      .then((buffer) => window.postMessage({ kind: 'attention-row',
        inReplyTo: m.requestId, inspection: m.inspection, layer: m.layer, head: m.head, query: m.query,
        weights: new Float32Array(buffer) }, '*', [buffer]));
  }, setState() {}, getState() { return undefined; } });`;

/** Serves the page and, at /row, each row through the worker's path (the weights as bytes); times each answer. */
function serve(html: string, rowHost: HoverPath, compute: number[]): Promise<Server> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== '/row') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
      return;
    }
    const head = url.searchParams.get('head');
    const t = performance.now();
    rowHost
      .row(Number(url.searchParams.get('layer')), head ? Number(head) : null, Number(url.searchParams.get('query')))
      .then(
        (reply) => {
          compute.push(performance.now() - t);
          const w = reply.weights ?? new Float32Array(0);
          response
            .writeHead(200, { 'content-type': 'application/octet-stream' })
            .end(Buffer.from(w.buffer, w.byteOffset, w.byteLength));
        },
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** In the page (plain JS: tsx's name helpers do not exist there): hover `count` late tokens, each until its
 * exact row is painted; returns the times. */
const HOVER_JS = `async (count, frameWork) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => {
    void document.documentElement.offsetHeight;
    resolve(performance.now());
  }));
  // After the frame's animation-frame callbacks (the app's included) and its rendering.
  const painted = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => {
    void document.documentElement.offsetHeight;
    resolve(performance.now());
  })));
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
    let end = await painted();
    while (!((line?.textContent ?? '').includes('exact row') && target.classList.contains('focus'))) end = await painted();
    document.querySelector('.tokens')?.dispatchEvent(new PointerEvent('pointerleave', { bubbles: false }));
    // The next hover starts once the unshading is rendered, not inside the frame that renders it.
    await painted();
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
  const { result, html, file } = await longPanelPage(ROOT, 'bench-longctx-hover', n);
  const plain = process.argv[5] === 'js' || process.argv[4] === 'js';
  const rows = shapeRows(result.tokens.length, !plain);
  await rows.ready();
  const rowHost = hoverPath(rows);
  const stub =
    'window.acquireVsCodeApi = () => ({ postMessage() {}, setState() {}, getState() { return undefined; } });';
  if (!html.includes(stub)) throw new Error('the harness page has no acquireVsCodeApi stub to replace');
  const page_ = html.replace(stub, PAGE_STUB);
  writeFileSync(file, page_);
  const compute: number[] = [];
  const server = await serve(page_, rowHost, compute);
  const browser = await launchChromium();
  try {
    const { context, page, errors } = await newPanelPage(browser);
    // With a third argument "webview": the page answers itself with one row computed in advance (no round trip),
    // to time the page's own work.
    const fixed = process.argv[4] === 'webview' ? Array.from(rows.row(0, null, rows.n - 1)) : null;
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    if (fixed) await page.evaluate(`window.__fixedRow = Float32Array.from(${JSON.stringify(fixed)}).buffer`);
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
    rowHost.close();
    server.close();
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
