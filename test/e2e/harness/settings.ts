// Changes a user setting the way a user does, in the Settings editor. (code-server does not pick up edits
// to settings.json made behind its back, so the harness writes that file only before start.)
import type { Page } from 'playwright-core';
import { MEDIUM, runCommand } from './workbench';

export async function setUserSetting(page: Page, key: string, value: string): Promise<void> {
  await runCommand(page, 'Preferences: Open User Settings');
  const editor = page.locator('.settings-editor');
  await editor.waitFor({ state: 'visible', timeout: MEDIUM });
  await page.keyboard.type(key);
  const item = editor.locator(`.setting-item-contents[data-key="${key}"]`).first();
  const input = item.locator(`input[aria-label="${key}"]`);
  await input.waitFor({ state: 'visible', timeout: MEDIUM });
  await input.fill(value);
  // The Settings editor writes the value shortly after the last change; the row then shows it as modified.
  if (value !== '') await editor.locator(`.setting-item-contents.is-configured[data-key="${key}"]`).first().waitFor({ state: 'attached', timeout: MEDIUM });
  await runCommand(page, 'View: Close Editor');
  await editor.waitFor({ state: 'hidden', timeout: MEDIUM });
}
