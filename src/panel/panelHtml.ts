// The webview's HTML: a strict CSP (default-src 'none'; scripts only by nonce; styles and images from the
// extension's own folders), the bundle and CSS from dist/. No `vscode` import, so the browser test can
// load exactly this page.
import { randomBytes } from 'node:crypto';
import { htmlPage } from '../shared/htmlPage';

export interface PanelHtmlParts {
  /** webview.cspSource */
  readonly cspSource: string;
  readonly scriptUri: string;
  readonly styleUri: string;
  readonly nonce: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[+/=]/g, '');
}

export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

const attr = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export function buildPanelHtml(parts: PanelHtmlParts): string {
  return htmlPage({
    csp: attr(panelCsp(parts.cspSource, parts.nonce)),
    head: [`<link rel="stylesheet" href="${attr(parts.styleUri)}">`, '<title>Attention</title>'],
    body: ['<div id="app"></div>', `<script nonce="${attr(parts.nonce)}" src="${attr(parts.scriptUri)}"></script>`],
  });
}
