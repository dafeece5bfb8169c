// The inspector panel in Debian's Chromium (playwright-core, headless): the real webview bundle in a page
// that stands in for the VS Code webview (acquireVsCodeApi stub), fed a real inspection of the default
// model as the host's messages. The timing itself happens in the page (webviewHarness.ts).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../test/browser/browserLaunch';
import { encodeInspectionResult } from '../src/shared/resultCodec';
import type { InspectionResult } from '../src/shared/protocol';
import type { BenchBundles } from './bundles';
import { buildWebviewHarness } from './bundles';
import type { DeliveryTimes, HoverTimes } from './webviewHarness';
import { median, quantile } from './stats';

export interface WebviewBenchOptions {
  readonly root: string;
  readonly bundles: BenchBundles;
  readonly results: ReadonlyMap<number, InspectionResult>;
  /** Page loads per length for the first-paint median. */
  readonly loads: number;
  readonly hovers: number;
  readonly tiny: boolean;
  readonly log: (line: string) => void;
}

export interface WebviewLengthFigures {
  readonly tokens: number;
  readonly firstPaintMs: number;
  readonly readyMs: number;
  readonly hoverP50Ms: number;
  readonly hoverP95Ms: number;
  readonly hoverMaxMs: number;
  readonly hovers: number;
}

export interface WebviewBenchResult {
  readonly browser: string;
  readonly lengths: WebviewLengthFigures[];
}

export function harnessPage(result: InspectionResult, bundles: BenchBundles, harnessJs: string): string {
  // In JSON, '<' only occurs inside strings, where \u003c means the same character.
  const data = encodeInspectionResult(result).replace(/</g, '\\u003c');
  const script = (code: string): string => code.replace(/<\/script/gi, '<\\/script');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Prompt Attention benchmark</title>
<style>${readFileSync(bundles.webviewCss, 'utf8').replace(/<\/style/gi, '\\3C/style')}</style></head>
<body><div id="app"></div>
<script type="application/json" id="bench-data">${data}</script>
<script>window.acquireVsCodeApi = () => ({ postMessage() {}, setState() {}, getState() { return undefined; } });</script>
<script>${script(readFileSync(bundles.webviewJs, 'utf8'))}</script>
<script>${script(harnessJs)}</script>
</body></html>
`;
}

export async function runWebviewBench(options: WebviewBenchOptions): Promise<WebviewBenchResult> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (apt-get install chromium)`);
  const harnessJs = await buildWebviewHarness(options.root);
  // The pages stay in .cache/bench-webview/ (ignored by git) for a look in a browser afterwards.
  const dir = path.join(options.root, '.cache', options.tiny ? 'bench-webview-tiny' : 'bench-webview');
  mkdirSync(dir, { recursive: true });
  let browser: Browser | null = null;
  try {
    browser = await launchChromium();
    const lengths: WebviewLengthFigures[] = [];
    for (const [tokens, result] of [...options.results].sort((a, b) => a[0] - b[0])) {
      const file = path.join(dir, `panel-${tokens}.html`);
      writeFileSync(file, harnessPage(result, options.bundles, harnessJs));
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      const deliveries: DeliveryTimes[] = [];
      let hover: HoverTimes = { samples: [], missed: 0 };
      for (let load = 0; load < options.loads; load++) {
        await page.goto(pathToFileURL(file).href);
        deliveries.push(await page.evaluate(() => window.__benchDeliver()));
        if (load === options.loads - 1)
          hover = await page.evaluate(([count, seed]) => window.__benchHover(count, 20, seed), [
            options.hovers,
            tokens,
          ] as const);
      }
      await context.close();
      if (errors.length > 0) throw new Error(`the webview reported an error at ${tokens} tokens: ${errors[0]}`);
      if (hover.missed > 0)
        throw new Error(
          `${hover.missed} of ${hover.samples.length} hovers at ${tokens} tokens did not show the focus in the next frame`,
        );
      const figures: WebviewLengthFigures = {
        tokens,
        firstPaintMs: median(deliveries.map((d) => d.firstPaintMs)),
        readyMs: median(deliveries.map((d) => d.readyMs)),
        hoverP50Ms: quantile(hover.samples, 0.5),
        hoverP95Ms: quantile(hover.samples, 0.95),
        hoverMaxMs: Math.max(...hover.samples),
        hovers: hover.samples.length,
      };
      lengths.push(figures);
      options.log(
        `webview ${String(tokens).padStart(4)} tokens: first paint ${figures.firstPaintMs.toFixed(1)} ms, ready ${figures.readyMs.toFixed(1)} ms, ` +
          `hover p50 ${figures.hoverP50Ms.toFixed(2)} ms, p95 ${figures.hoverP95Ms.toFixed(2)} ms (${figures.hovers} hovers)`,
      );
    }
    return { browser: `Chromium ${browser.version()}`, lengths };
  } finally {
    await browser?.close();
  }
}
