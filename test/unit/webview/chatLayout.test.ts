// The panel's layout of a chat inspection: template tokens (not in the selection) show as chips with their
// rendered text, message tokens as the selection's own text, each with its role for the role shading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenInfo } from '../../../src/shared/protocol';
import { layoutTokens } from '../../../webview/model/tokenLayout';

test('chat tokens: template chips, message text with its role, the gaps of the selection kept', () => {
  const text = '## User\nHi there';
  const tokens: TokenInfo[] = [
    { id: 1, text: '<|im_start|>', start: 0, end: 0, special: true, role: 'template' },
    { id: 2, text: 'user\n', start: 0, end: 0, role: 'template' },
    { id: 3, text: 'Hi', start: 8, end: 10, role: 'user' },
    { id: 4, text: ' there', start: 10, end: 16, role: 'user' },
    { id: 5, text: 'Be nice.', start: 16, end: 16, role: 'user' },
  ];
  const layout = layoutTokens(text, tokens);
  assert.deepEqual(
    layout.tokens.map((t) => [t.display, t.kind, t.role]),
    [
      ['⟨im_start⟩', 'special', 'template'],
      ['user↵', 'special', 'template'],
      ['Hi', 'text', 'user'],
      [' there', 'text', 'user'],
      ['Be nice.', 'special', 'user'],
    ],
  );
  const gaps = layout.pieces.filter((p) => p.kind === 'gap').map((p) => (p.kind === 'gap' ? p.text : ''));
  assert.deepEqual(gaps, ['## User\n'], 'the heading stays visible as text between tokens');
  assert.equal(layoutTokens(text, [{ id: 3, text: 'Hi', start: 8, end: 10 }]).tokens[0].role, undefined);
});
