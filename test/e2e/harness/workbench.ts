// Drives the code-server workbench in Debian's Chromium through playwright-core, the way a user would:
// quick open, the command palette, keyboard selections, the inspector webview (nested iframes).
import * as fs from 'node:fs';
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';
import type { CodeServer } from './codeServer';
import { output } from './paths';

import { CHROMIUM, CHROMIUM_ARGS } from '../../helpers/chromium';
/** Generous: the machine is small and busy; every wait is on a real condition, never a fixed sleep. */
export const LONG = 180_000;
export const MEDIUM = 60_000;

export interface Workbench {
  readonly page: Page;
  readonly browser: Browser;
  close(): Promise<void>;
}

export async function openWorkbench(server: CodeServer, scenario: string): Promise<Workbench> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing; run test/e2e/setup.sh`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const consoleLog = output(scenario, 'browser-console.log');
  fs.writeFileSync(consoleLog, '');
  page.on('console', (message) => fs.appendFileSync(consoleLog, `[${message.type()}] ${message.text()}\n`));
  page.on('pageerror', (error) => fs.appendFileSync(consoleLog, `[pageerror] ${error.message}\n`));
  await page.goto(`${server.url}/?folder=${encodeURIComponent(server.workspace)}`);
  await waitForWorkbench(page);
  return { page, browser, close: () => browser.close() };
}

export async function waitForWorkbench(page: Page): Promise<void> {
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: LONG });
  await page.locator('.part.statusbar').waitFor({ state: 'visible', timeout: LONG });
  // The explorer lists the workspace once the file service is up.
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ state: 'visible', timeout: LONG });
}

export async function screenshot(page: Page, scenario: string, name: string): Promise<void> {
  await page.screenshot({ path: output(scenario, `${name}.png`) });
}

async function quickInput(page: Page): Promise<Locator> {
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout: MEDIUM });
  return widget;
}

/**
 * Opens a workspace file with Quick Open and waits until its editor has focus. The row is clicked once Quick
 * Open has focused it (Enter could take a stale first row while the file search still ran), and the whole
 * sequence is tried again if the editor does not come up: after a drag in a webview, the first Quick Open can
 * open nothing (seen once in CI).
 */
export async function openFile(page: Page, fileName: string): Promise<Locator> {
  const tab = page.locator(`.tabs-container .tab.active[data-resource-name="${fileName}"]`).first();
  const attempts = 3;
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Control+P');
    const widget = await quickInput(page);
    await page.keyboard.type(fileName);
    const row = widget.locator('.monaco-list-row.focused', { hasText: fileName }).first();
    await row.waitFor({ state: 'visible', timeout: MEDIUM });
    await row.click();
    await widget.waitFor({ state: 'hidden', timeout: MEDIUM });
    try {
      await tab.waitFor({ state: 'visible', timeout: MEDIUM / 3 });
      break;
    } catch (error) {
      if (attempt === attempts) throw error;
    }
  }
  // Quick Open leaves the keyboard focus in the opened editor, except after a drag in a webview (seen in CI: the
  // tab came up, the focus stayed in the panel's frame): then a click on its first line's start takes it there,
  // where a freshly opened file's cursor is anyway.
  const focused = page.locator(`.monaco-editor.focused[data-uri$="/${fileName}"]`).first();
  try {
    await focused.waitFor({ state: 'visible', timeout: MEDIUM / 6 });
  } catch {
    await editorFor(page, fileName)
      .locator('.view-line')
      .first()
      .click({ position: { x: 1, y: 2 } });
    await focused.waitFor({ state: 'visible', timeout: MEDIUM });
  }
  return editorFor(page, fileName);
}

/** Runs a command from the command palette by its full title, e.g. "Prompt Attention: Inspect Attention". */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const widget = await quickInput(page);
  await page.keyboard.type(title);
  const row = widget.locator('.monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: MEDIUM });
  await row.click();
  await widget.waitFor({ state: 'hidden', timeout: MEDIUM });
}

/** Selects whole lines from `first` to `last` (1-based, inclusive) in the focused editor. */
export async function selectLines(page: Page, first: number, last: number): Promise<void> {
  await page.keyboard.press('Control+G');
  await quickInput(page);
  await page.keyboard.type(String(first));
  await page.keyboard.press('Enter');
  await page.keyboard.press('Home');
  await page.keyboard.press('Home'); // twice: the first one may stop at the indentation
  for (let line = first; line < last; line++) await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Shift+End');
}

/** The inspector panel's content: the workbench's webview iframe, then the webview's active frame. */
export function inspectorFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').last().frameLocator('#active-frame');
}

/** The texts of the notification toasts on screen. */
export async function notificationTexts(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}

/** Waits until a notification toast matches. */
export async function waitForNotification(page: Page, pattern: RegExp): Promise<string> {
  const toast = page
    .locator('.notifications-toasts .notification-list-item-message')
    .filter({ hasText: pattern })
    .first();
  await toast.waitFor({ state: 'visible', timeout: LONG });
  return toast.innerText();
}

export async function dismissNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
}

export const INSPECT_COMMAND = 'Prompt Attention: Inspect Attention';

/** The panel's token elements, once an inspection has drawn them. */
export async function waitForTokens(page: Page): Promise<Locator> {
  const tokens = inspectorFrame(page).locator('[data-token-index]');
  await tokens.first().waitFor({ state: 'visible', timeout: LONG });
  return tokens;
}

/** The panel's error banner, once it shows. */
export async function waitForPanelError(page: Page): Promise<string> {
  const banner = inspectorFrame(page).locator('.banner.error');
  await banner.waitFor({ state: 'visible', timeout: LONG });
  return banner.innerText();
}

/** The code editor showing a workspace file, whichever group is active. */
export function editorFor(page: Page, fileName: string): Locator {
  return page.locator(`.monaco-editor[data-uri$="/${fileName}"]`).first();
}

/** Decorations the extension put in a file's editor (VS Code names their classes after the decoration type). */
export function editorDecorations(page: Page, fileName: string): Locator {
  return editorFor(page, fileName).locator(
    '.view-overlays [class*="TextEditorDecorationType"], .view-lines [class*="TextEditorDecorationType"]',
  );
}

/** Polls `probe` until it returns a value other than undefined (a wait on a real condition, not a sleep). */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = MEDIUM): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A prompt of about 2,000 tokens for the embedded model (rows on demand: no per-head rows, no rollout sent). */
export const LONG_FILE = 'long.md';

/**
 * Opens LONG_FILE (the scenario's workspace holds it), inspects it whole and waits until every layer and head
 * thumbnail is drawn; returns the panel, its tokens and how many there are.
 */
export async function inspectLongFile(page: Page): Promise<{ panel: FrameLocator; tokens: Locator; count: number }> {
  await openFile(page, LONG_FILE);
  await runCommand(page, INSPECT_COMMAND);
  const tokens = await waitForTokens(page);
  const count = await waitUntil('the whole prompt to be tokenized', async () => {
    const n = await tokens.count();
    return n > 1500 ? n : undefined;
  });
  const panel = inspectorFrame(page);
  // Every layer drawn: the summary's drivers appear last.
  await panel.locator('.focus-line').waitFor({ state: 'attached', timeout: LONG });
  // The panel asks for rows on demand: the head grid and the matrix overview draw from the overview tiles.
  await waitUntil('every head thumbnail drawn', async () =>
    (await panel.locator('.hg-cell.pending').count()) === 0 ? true : undefined,
  );
  return { panel, tokens, count };
}
