// Changes a user setting the way a user does, in the Settings editor. (code-server does not pick up edits
// to settings.json made behind its back, so the harness writes that file only before start.)
import * as fs from 'node:fs';
import type { Page } from 'playwright-core';
import { MEDIUM, runCommand, waitUntil } from './workbench';

function storedValue(settingsFile: string, key: string): unknown {
  try {
    return (JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as Record<string, unknown>)[key];
  } catch {
    return undefined; // mid-write or not JSON yet
  }
}

/** Types the value into the setting's box and waits until VS Code has written it to the user settings file. */
export async function setUserSetting(page: Page, settingsFile: string, key: string, value: string): Promise<void> {
  await runCommand(page, 'Preferences: Open User Settings');
  const editor = page.locator('.settings-editor');
  await editor.waitFor({ state: 'visible', timeout: MEDIUM });
  await page.keyboard.type(key);
  const input = editor.locator(`.setting-item-contents[data-key="${key}"] input[aria-label="${key}"]`).first();
  await input.waitFor({ state: 'visible', timeout: MEDIUM });
  await input.fill(value);
  // An empty string may be stored as "" or the key removed (the default is "").
  await waitUntil(`${key} to be saved`, async () => {
    const stored = storedValue(settingsFile, key);
    return stored === value || (value === '' && stored === undefined) ? true : undefined;
  });
  await runCommand(page, 'View: Close Editor');
  await editor.waitFor({ state: 'hidden', timeout: MEDIUM });
}
