// The frame of every HTML page the extension writes (the panel's webview, the offline report): UTF-8, its
// Content-Security-Policy, the viewport, then the page's own head elements and body. No Node-only API.

export interface HtmlPageParts {
  /** The policy, already safe inside a double-quoted attribute. */
  readonly csp: string;
  /** Further head elements (stylesheet, title, …), one a line. */
  readonly head: readonly string[];
  readonly bodyClass?: string;
  /** The body's elements, one a line. */
  readonly body: readonly string[];
}

export function htmlPage(parts: HtmlPageParts): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${parts.csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
${parts.head.join('\n')}
</head>
<body${parts.bodyClass ? ` class="${parts.bodyClass}"` : ''}>
${parts.body.join('\n')}
</body>
</html>
`;
}
