// One self-contained, offline HTML file with the inspector UI: the webview bundle and CSS inlined, the result
// embedded as JSON in a non-executed script block, and a CSP that allows inline code only and no network.
import type { InspectionResult } from '../shared/protocol';
import { encodeInspectionResult } from './resultCodec';

export interface ReportAssets {
  readonly webviewJs: string;
  readonly webviewCss: string;
}

/** Id of the JSON block the webview bundle boots from when there is no VS Code host. */
export const REPORT_DATA_ID = 'prompt-attention-data';

const CSP = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  'img-src data: blob:',
  "connect-src 'none'",
  "form-action 'none'",
  "base-uri 'none'",
].join('; ');

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
  const title = `Prompt Attention — ${result.source.label || 'report'}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="prompt-attention">
<title>${escapeHtml(title)}</title>
<style>${escapeRawText(stripSourceMaps(assets.webviewCss), 'style')}</style>
</head>
<body class="pa-report">
<div id="app"></div>
<script type="application/json" id="${REPORT_DATA_ID}">${data}</script>
<script>${escapeRawText(stripSourceMaps(assets.webviewJs), 'script')}</script>
</body>
</html>
`;
}
