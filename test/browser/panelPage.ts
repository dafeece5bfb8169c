// The panel page's stand-ins for the browser tests: a fake acquireVsCodeApi that records what the webview posts
// (and a CSP violation log), host messages sent as VS Code would deliver them (typed arrays rebuilt), and waits
// on what the webview posted.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildPanelHtml, makeNonce } from '../../src/panel/panelHtml';
import { encodeInspectionResult } from '../../src/shared/resultCodec';
import type { HostMessage, WebviewToHostMessage } from '../../src/shared/protocol';
import { longResult } from '../helpers/longResult';
import { outputDir, root } from './reportFixture';

// Runs in the page before the bundle: a fake VS Code API that records what the webview posts, and a CSP
// violation log. Plain JS source (not a TS function) so no transform helpers leak into the page.
export const fakeVsCode = `
  window.__posted = [];
  window.__csp = [];
  window.__state = undefined;
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  window.acquireVsCodeApi = () => ({
    postMessage: (m) => window.__posted.push(m),
    setState: (s) => { window.__state = s; },
    getState: () => window.__state,
  });
  // Rebuilds typed arrays from the codec's {"$typed", "base64"} form, as VS Code would deliver them.
  window.__decode = (text) => JSON.parse(text, (k, v) => {
    if (!v || typeof v !== 'object' || typeof v.$typed !== 'string') return v;
    const bin = atob(v.base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new globalThis[v.$typed](bytes.buffer);
  });
  window.__send = (text) => window.postMessage(window.__decode(text), '*');
`;

export async function send(page: Page, message: HostMessage): Promise<void> {
  // The codec handles any object with typed arrays inside, not just whole results.
  const text = encodeInspectionResult(message as never);
  await page.evaluate(`window.__send(${JSON.stringify(text)})`);
}

/** Waits until the webview has posted a message with these fields (a function predicate: the page's CSP forbids
 * eval). */
export async function waitPosted(page: Page, fields: Record<string, unknown>): Promise<void> {
  await page.waitForFunction(
    (want) =>
      (window as unknown as { __posted: Record<string, unknown>[] }).__posted.some((m) =>
        Object.entries(want).every(([k, v]) => m[k] === v),
      ),
    fields,
  );
}

export const posted = (page: Page): Promise<WebviewToHostMessage[]> =>
  page.evaluate('window.__posted') as Promise<WebviewToHostMessage[]>;

/** Writes the panel page as the extension serves it (strict CSP, nonce'd bundle from dist/) and opens it. */
export async function openPanelPage(
  browser: Browser,
  name: string,
): Promise<{ page: Page; context: BrowserContext; errors: string[] }> {
  mkdirSync(outputDir, { recursive: true });
  const dist = pathToFileURL(path.join(root, 'dist')).href;
  const file = path.join(outputDir, `${name}.html`);
  writeFileSync(
    file,
    buildPanelHtml({
      cspSource: 'file:',
      scriptUri: `${dist}/webview.js`,
      styleUri: `${dist}/webview.css`,
      nonce: makeNonce(),
    }),
  );
  const context = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.addInitScript(fakeVsCode);
  await page.goto(pathToFileURL(file).href);
  return { page, context, errors };
}

/** Sends a whole synthetic inspection of n tokens (helpers/longResult.ts) as the host does; returns n. */
export async function sendLongResult(page: Page, n: number, layers: number, heads: number): Promise<number> {
  const { layers: sent, summary, source, cost: _cost, ...header } = longResult(n, layers, heads);
  await send(page, { kind: 'source', requestId: 1, source });
  await send(page, { kind: 'header', requestId: 1, header });
  for (const layer of sent) await send(page, { kind: 'layer', requestId: 1, layer });
  await send(page, { kind: 'summary', requestId: 1, summary });
  return header.tokens.length;
}
