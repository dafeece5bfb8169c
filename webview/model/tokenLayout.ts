// Lays tokens out as written: the text between and inside tokens is kept verbatim (spaces, tabs, line
// breaks, indentation), and each token gets a line and column for up/down keyboard movement.
import type { TokenInfo, TokenRole } from '../../src/shared/protocol';

export type TokenKind = 'text' | 'special' | 'newline' | 'space' | 'empty';

export interface LaidToken {
  readonly index: number;
  /** What the token element shows (its textContent); for special tokens a chip label. */
  readonly display: string;
  readonly kind: TokenKind;
  readonly line: number;
  readonly column: number;
  /** Chat inspections: the token's message, or 'template'. */
  readonly role?: TokenRole;
}

export type LayoutPiece =
  { readonly kind: 'token'; readonly token: LaidToken } | { readonly kind: 'gap'; readonly text: string };

export interface TokenLayout {
  readonly pieces: readonly LayoutPiece[];
  readonly tokens: readonly LaidToken[];
  /** Token indexes per line, in order. */
  readonly lines: readonly (readonly number[])[];
}

export function specialLabel(token: TokenInfo): string {
  const t = token.text.trim();
  if (/begin_of_text|^<s>$|bos|startoftext/i.test(t) || t === '') return '⟨bos⟩';
  return `⟨${t.replace(/^<\|?|\|?>$/g, '')}⟩`;
}

export function layoutTokens(text: string, tokens: readonly TokenInfo[]): TokenLayout {
  const pieces: LayoutPiece[] = [];
  const laid: LaidToken[] = [];
  const lines: number[][] = [[]];
  let cursor = 0;
  let line = 0;
  let column = 0;
  const advance = (s: string): void => {
    for (let i = 0; i < s.length; i++) {
      if (s.charCodeAt(i) === 10) {
        line++;
        column = 0;
        lines.push([]);
      } else {
        column++;
      }
    }
  };
  tokens.forEach((token, index) => {
    const role = token.role ? { role: token.role } : {};
    // Chat text that is not in the inspected text (the template's, the setting's user message) shows as a chip.
    const outside =
      token.role !== undefined && (token.role === 'template' || text.slice(token.start, token.end) !== token.text);
    if (token.special || outside) {
      const display = token.special ? specialLabel(token) : token.text.replace(/\n/g, '↵');
      const t: LaidToken = { index, display, kind: 'special', line, column, ...role };
      pieces.push({ kind: 'token', token: t });
      laid.push(t);
      lines[line].push(index);
      return;
    }
    if (token.start > cursor) {
      const gap = text.slice(cursor, token.start);
      pieces.push({ kind: 'gap', text: gap });
      advance(gap);
      cursor = token.start;
    }
    // Overlapping spans (a multi-byte character split across byte-level tokens) show their remainder only.
    const display = text.slice(Math.max(cursor, token.start), Math.max(cursor, token.end));
    const kind: TokenKind =
      display === ''
        ? 'empty'
        : display.includes('\n') && display.trim() === ''
          ? 'newline'
          : display.trim() === ''
            ? 'space'
            : 'text';
    const t: LaidToken = { index, display, kind, line, column, ...role };
    pieces.push({ kind: 'token', token: t });
    laid.push(t);
    lines[line].push(index);
    advance(display);
    cursor = Math.max(cursor, token.end);
  });
  if (cursor < text.length) pieces.push({ kind: 'gap', text: text.slice(cursor) });
  return { pieces, tokens: laid, lines };
}

/** The token on the line above/below (delta ±1) nearest in column, or null at the edge. */
export function verticalNeighbour(layout: TokenLayout, index: number, delta: number): number | null {
  const from = layout.tokens[index];
  if (!from) return null;
  for (let l = from.line + delta; l >= 0 && l < layout.lines.length; l += delta) {
    const row = layout.lines[l];
    if (row.length === 0) continue;
    let best = row[0];
    for (const i of row) {
      if (Math.abs(layout.tokens[i].column - from.column) < Math.abs(layout.tokens[best].column - from.column))
        best = i;
    }
    return best;
  }
  return null;
}
