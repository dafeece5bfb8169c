// The one Chromium launch for the browser tests and the webview bench: Debian's chromium through
// playwright-core, headless, with background networking off. `useBrowser()` registers the before/after
// hooks of the calling test file.
import { after, before } from 'node:test';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { ensureBuilt } from './reportFixture';

import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';

export { CHROMIUM } from '../helpers/chromium';

/** The node:test skip reason when Chromium is missing, else false. Never a skip in CI: a missing prerequisite fails
 * there. */
export const skipWithoutChromium: string | false =
  existsSync(CHROMIUM) || process.env.CI ? false : 'Debian chromium is not installed (apt-get install chromium)';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
}

/** Builds dist/ if needed and launches Chromium before the file's tests; closes it after. */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    if (skipWithoutChromium) return;
    ensureBuilt();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('Chromium is not running (skipped, or used outside a test)');
    return browser;
  };
}
