// Debian's Chromium as every browser-driven test launches it (the browser tests, the webview bench, the
// code-server workbench): headless, no sandbox, no GPU, background networking off.

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
