// The panel page of a long synthetic inspection for the benches that open it in Chromium (webviewLongBench.ts,
// longctxHover.ts): fresh bundles, the webview harness, and an n-token inspection of the 0.5B shape as the panel
// receives it with rows on demand (test/helpers/longResult.ts).
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { InspectionResult } from '../src/shared/protocol';
import { CHROMIUM } from '../test/browser/browserLaunch';
import { longResult } from '../test/helpers/longResult';
import { buildBenchBundles, buildWebviewHarness } from './bundles';
import { REALSIZE_SHAPE } from './realSizeFixture';
import { harnessPage } from './webviewBench';

export interface LongPanelPage {
  readonly result: InspectionResult;
  readonly html: string;
  /** Where the caller writes the page: .cache/<name>/panel-<n>.html (its folder exists). */
  readonly file: string;
}

export async function longPanelPage(root: string, name: string, n: number): Promise<LongPanelPage> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed`);
  const bundles = await buildBenchBundles(root, name);
  const harnessJs = await buildWebviewHarness(root);
  const result = longResult(n, REALSIZE_SHAPE.layers, REALSIZE_SHAPE.heads);
  const dir = path.join(root, '.cache', name);
  mkdirSync(dir, { recursive: true });
  return { result, html: harnessPage(result, bundles, harnessJs), file: path.join(dir, `panel-${n}.html`) };
}

/** A dark 1280 × 900 page in `browser`, collecting the page's errors. */
export async function newPanelPage(
  browser: Browser,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}
