// A long text's chunks of lines (tokenChunks.ts): they cover every piece and token once and in order, close
// after a line break (so the text reads as written), and place themselves by height for the token view's window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layoutTokens } from '../../../webview/model/tokenLayout';
import { ChunkPlacement, chunkLayout, chunkOfToken, estimateHeight } from '../../../webview/model/tokenChunks';
import { syntheticTokens } from '../../helpers/syntheticResult';

const text = Array.from({ length: 3000 }, (_, i) => (i % 17 === 16 ? '\n' : ` w${i % 97}`)).join('') + ' tail';
const layout = layoutTokens(text, syntheticTokens(text));

test('chunks cover every piece and token in order, each closed after a line break', () => {
  const chunks = chunkLayout(layout, 128);
  assert.ok(chunks.length > 10);
  let piece = 0;
  let token = 0;
  for (const [i, c] of chunks.entries()) {
    assert.equal(c.firstPiece, piece);
    assert.equal(c.firstToken, token);
    piece = c.endPiece;
    token = c.endToken;
    if (i === chunks.length - 1) continue;
    assert.ok(c.endToken - c.firstToken >= 128, 'at least the chunk size');
    const lastPiece = layout.pieces[c.endPiece - 1];
    const shown = lastPiece.kind === 'gap' ? lastPiece.text : lastPiece.token.display;
    assert.ok(shown.endsWith('\n'), `chunk ${i} ends a line`);
  }
  assert.equal(piece, layout.pieces.length);
  assert.equal(token, layout.tokens.length);
  // The characters of each chunk's lines add up to the text's, plus the BOS chip's label and padding.
  const chars = chunks.reduce((s, c) => s + c.lines.reduce((a, b) => a + b, 0), 0);
  assert.equal(chars, text.replace(/\n/g, '').length + '⟨bos⟩'.length + 2);
  for (const t of [0, 1, 127, 128, 1500, layout.tokens.length - 1]) {
    const c = chunks[chunkOfToken(chunks, t)];
    assert.ok(c.firstToken <= t && t < c.endToken, `token ${t} in its chunk`);
  }
});

test('a line with no break is cut at four chunk sizes', () => {
  const flat = Array.from({ length: 1000 }, (_, i) => ` w${i}`).join('');
  const chunks = chunkLayout(layoutTokens(flat, syntheticTokens(flat)), 100);
  assert.deepEqual(
    chunks.map((c) => c.endToken - c.firstToken),
    [400, 400, 201], // 1,000 words and the BOS token
  );
});

test('heights: estimated from line lengths, measured once drawn; the window follows them', () => {
  const chunks = chunkLayout(layout, 128);
  const metrics = { charsPerLine: 40, lineHeight: 20 };
  // A line of 17 tokens of about 4 characters wraps once at 40 characters.
  assert.equal(estimateHeight({ ...chunks[0], lines: [0, 39, 40, 41, 100] }, metrics), (1 + 1 + 1 + 2 + 3) * 20);
  const place = new ChunkPlacement(chunks, metrics);
  const estimated = chunks.reduce((s, c) => s + estimateHeight(c, metrics), 0);
  assert.equal(place.total, estimated);
  assert.equal(place.measure(0, place.top(1) + 30), true);
  assert.equal(place.total, estimated + 30);
  assert.equal(place.measure(0, place.top(1)), false, 'the same height again changes nothing');
  assert.equal(place.top(2) - place.top(1), estimateHeight(chunks[1], metrics));
  const [a, b] = place.window(place.top(5) + 1, 100, 0);
  assert.equal(a, 5);
  assert.ok(b >= 5 && place.top(b) <= place.top(5) + 101 && place.top(b + 1) > place.top(5) + 101);
  assert.deepEqual(place.window(place.total + 500, 100, 0), [chunks.length - 1, chunks.length - 1]);
  place.setMetrics({ charsPerLine: 400, lineHeight: 20 });
  assert.equal(place.isMeasured(0), false, 'a new width makes every height an estimate again');
});
