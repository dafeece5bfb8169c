import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenInfo } from '../../../src/shared/protocol';
import { layoutTokens, verticalNeighbour } from '../../../webview/model/tokenLayout';

const tok = (text: string, start: number, end: number, special = false): TokenInfo => ({
  id: 0,
  text,
  start,
  end,
  special,
});

test('keeps spaces, tabs, line breaks and indentation verbatim', () => {
  const text = 'Hi there\n\tindented:\n\n  two';
  const tokens = [
    tok('', 0, 0, true),
    tok('Hi', 0, 2),
    tok(' there', 2, 8),
    tok('\n', 8, 9),
    tok('\tindented', 9, 18),
    tok(':', 18, 19),
    tok('\n\n', 19, 21),
    tok('  two', 21, 26),
  ];
  const layout = layoutTokens(text, tokens);
  const shown = layout.pieces
    .map((p) => (p.kind === 'gap' ? p.text : p.token.kind === 'special' ? '' : p.token.display))
    .join('');
  assert.equal(shown, text);
  assert.equal(layout.tokens[0].display, '⟨bos⟩');
  assert.equal(layout.tokens[3].kind, 'newline');
  assert.deepEqual(
    layout.tokens.map((t) => t.line),
    [0, 0, 0, 0, 1, 1, 1, 3],
  );
  assert.equal(layout.tokens[7].column, 0);
  assert.equal(layout.lines.length, 4);
});

test('gaps between tokens stay as text and overlapping spans show only their remainder', () => {
  const text = 'a😀b';
  // Two byte-level tokens share the emoji's span; a gap before "b" is not tokenized.
  const tokens = [tok('a', 0, 1), tok('😀', 1, 3), tok('😀', 1, 3), tok('b', 3, 4)];
  const layout = layoutTokens(text, tokens);
  assert.deepEqual(
    layout.tokens.map((t) => t.display),
    ['a', '😀', '', 'b'],
  );
  assert.equal(layout.tokens[2].kind, 'empty');
  const withGap = layoutTokens('ab  cd', [tok('ab', 0, 2), tok('cd', 4, 6)]);
  assert.deepEqual(
    withGap.pieces.map((p) => (p.kind === 'gap' ? `gap:${p.text}` : p.token.display)),
    ['ab', 'gap:  ', 'cd'],
  );
});

test('hostile markup is kept as plain display text', () => {
  const text = '<img src=x onerror=alert(1)>';
  const layout = layoutTokens(text, [tok(text, 0, text.length)]);
  assert.equal(layout.tokens[0].display, text);
});

test('up and down move to the nearest token on the neighbouring non-empty line', () => {
  const text = 'aa bb\n\ncc dd ee';
  const tokens = [
    tok('aa', 0, 2),
    tok(' bb', 2, 5),
    tok('\n\n', 5, 7),
    tok('cc', 7, 9),
    tok(' dd', 9, 12),
    tok(' ee', 12, 15),
  ];
  const layout = layoutTokens(text, tokens);
  assert.equal(verticalNeighbour(layout, 1, 1), 4);
  assert.equal(verticalNeighbour(layout, 4, -1), 1);
  assert.equal(verticalNeighbour(layout, 0, -1), null);
  assert.equal(verticalNeighbour(layout, 5, 1), null);
});
