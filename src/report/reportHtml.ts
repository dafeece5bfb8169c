// One self-contained, offline HTML file with the inspector UI: the webview bundle and CSS inlined, the result
// embedded as JSON in a non-executed script block, and a CSP that allows inline code only and no network.
import { createHash } from 'node:crypto';
import { htmlPage } from '../shared/htmlPage';
import type { InspectionResult } from '../shared/protocol';
import { encodeInspectionResult } from '../shared/resultCodec';

export interface ReportAssets {
  readonly webviewJs: string;
  readonly webviewCss: string;
}

/** Id of the JSON block the webview bundle boots from when there is no VS Code host. */
export const REPORT_DATA_ID = 'prompt-attention-data';

/** Only the report's own inline script and style (by hash), images from data:/blob: (exports), no network. */
function reportCsp(script: string, style: string): string {
  return [
    "default-src 'none'",
    `script-src 'sha256-${sha256(script)}'`,
    `style-src 'sha256-${sha256(style)}'`,
    'img-src data: blob:',
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

/**
 * Makes code safe inside a raw-text element: nothing in it can close the element, or open a comment or a
 * nested script that would change how the parser finds the end. '<' becomes an escape that means the same
 * character where such a sequence can legally occur (JS strings, templates and regexes; CSS strings).
 */
function escapeRawText(text: string, tag: 'script' | 'style'): string {
  if (tag === 'style') return text.replace(/<\/style/gi, '\\3C/style');
  return text.replace(/<(!--|\/?script)/gi, '\\x3C$1');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Source-map comments would point at files the report does not carry. */
function stripSourceMaps(code: string): string {
  return code.replace(/\n?\/\/# sourceMappingURL=\S*\s*$/, '').replace(/\n?\/\*# sourceMappingURL=[^*]*\*\/\s*$/, '');
}

export function buildReportHtml(result: InspectionResult, assets: ReportAssets): string {
  // In JSON, '<' only occurs inside strings, where \u003c means the same character.
  const data = encodeInspectionResult(result).replace(/</g, '\\u003c');
  // The HTML parser turns CR LF into LF before the CSP hash is checked, so hash what it will see.
  const script = escapeRawText(stripSourceMaps(assets.webviewJs), 'script').replace(/\r\n?/g, '\n');
  const style = escapeRawText(stripSourceMaps(assets.webviewCss), 'style').replace(/\r\n?/g, '\n');
  const title = `Prompt Attention — ${result.source.label || 'report'}`;
  return htmlPage({
    csp: reportCsp(script, style),
    head: [
      '<meta name="generator" content="prompt-attention">',
      `<title>${escapeHtml(title)}</title>`,
      `<style>${style}</style>`,
    ],
    bodyClass: 'pa-report',
    body: [
      '<div id="app"></div>',
      `<script type="application/json" id="${REPORT_DATA_ID}">${data}</script>`,
      `<script>${script}</script>`,
    ],
  });
}
