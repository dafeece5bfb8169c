// The panel at long lengths in Chromium (`node --import tsx bench/webviewLongBench.ts [tokens] [hovers]`): an
// inspection of the 0.5B q4 shape as the panel receives it with rows on demand (per-token figures, no rows sent
// in advance; test/helpers/longResult.ts), through the webview bench's page (webviewHarness.ts). Prints data →
// first paint and ready (median of 3 loads), hover on screen without a row at hand, the DOM's size, and the
// frame work of scrolling the token view a third of a screen at a time.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DeliveryTimes, ScrollTimes } from './webviewHarness';
import { median, quantile } from './stats';
import { profilePage } from './pageProfile';
import { writeFileSync } from 'node:fs';
import { launchChromium } from '../test/browser/browserLaunch';
import { longPanelPage, newPanelPage } from './longPanelPage';

const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 8192);
  const hovers = Number(process.argv[3] ?? 100);
  const { result, html, file } = await longPanelPage(ROOT, 'bench-webview-long', n);
  writeFileSync(file, html);
  const browser = await launchChromium();
  try {
    const { context, page, errors } = await newPanelPage(browser);
    const deliveries: DeliveryTimes[] = [];
    for (let load = 0; load < 3; load++) {
      await page.goto(pathToFileURL(file).href);
      deliveries.push(await page.evaluate(() => window.__benchDeliver()));
    }
    const ms = (v: number): string => `${v.toFixed(1)} ms`;
    console.log(
      `${result.tokens.length} tokens: first paint ${ms(median(deliveries.map((d) => d.firstPaintMs)))}, ` +
        `ready ${ms(median(deliveries.map((d) => d.readyMs)))} (median of ${deliveries.length} loads)`,
    );
    const hover = await page.evaluate(([count, seed]) => window.__benchHover(count, 20, seed), [hovers, n] as const);
    console.log(
      `hover on screen (no row at hand): p50 ${ms(quantile(hover.samples, 0.5))}, p95 ${ms(quantile(hover.samples, 0.95))}` +
        ` (${hover.samples.length} hovers, ${hover.missed} missed)`,
    );
    // PA_PROFILE=file.cpuprofile: a CPU profile of the scroll steps, for a look in DevTools.
    const stopProfile = await profilePage(context, page);
    const scroll: ScrollTimes = await page.evaluate((steps) => window.__benchScroll(steps), 60);
    await stopProfile();
    console.log(
      `scroll a third of a screen: frame work p50 ${ms(quantile(scroll.samples, 0.5))}, p95 ${ms(quantile(scroll.samples, 0.95))}, ` +
        `max ${ms(Math.max(...scroll.samples))} (${scroll.samples.length} steps); last token on screen at the end: ${scroll.endShown}`,
    );
    console.log(`DOM: ${scroll.domNodes} elements, ${scroll.tokenElements} token elements`);
    const heap = (await page.evaluate('performance.memory ? performance.memory.usedJSHeapSize : 0')) as number;
    if (heap) console.log(`JS heap used: ${(heap / 2 ** 20).toFixed(0)} MiB`);
    if (errors.length > 0) throw new Error(`the webview reported an error: ${errors[0]}`);
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
