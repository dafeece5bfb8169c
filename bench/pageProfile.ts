// A CPU profile of part of a bench page's run when PA_PROFILE names a file (for a look in Chrome DevTools):
// `const stop = await profilePage(context, page); …; await stop();`. Without PA_PROFILE both do nothing.
import { writeFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';

export async function profilePage(context: BrowserContext, page: Page): Promise<() => Promise<void>> {
  const file = process.env.PA_PROFILE;
  if (!file) return async () => undefined;
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = await cdp.send('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
  };
}
