// Section labels (promptBlocks.ts shortLabel): read only as far as the label needs, yet equal to collapsing every
// whitespace run of the whole text, trimming it and cutting it to 40 characters with an ellipsis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortLabel } from '../../../src/shared/promptBlocks';

/** The definition, written the plain way: it reads the whole text. */
function reference(raw: string): string {
  const flat = raw.replace(/\s+/g, ' ').trim();
  return flat.length > 40 ? `${flat.slice(0, 39)}…` : flat;
}

test('labels equal the whole-text collapse, trim and cut on texts of every whitespace kind', () => {
  const spaces = Array.from({ length: 0x10000 }, (_, code) => String.fromCharCode(code)).filter((c) => /\s/.test(c));
  assert.equal(spaces.length, 25, 'the code units /\\s/ matches');
  const pieces = [
    ...spaces,
    'a',
    'Rules',
    'é',
    '😀',
    ' ',
    '  ',
    '\t',
    '\n',
    '\r\n',
    '\u00a0',
    '\u2028',
    '\u3000',
    '\ufeff',
    'x'.repeat(45),
  ];
  let seed = 12345;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const cases = [
    '',
    ' ',
    '\n\n',
    'x'.repeat(40),
    'x'.repeat(41),
    `${' '.repeat(5000)}late label`,
    'a '.repeat(20),
    'a '.repeat(21),
  ];
  for (let c = 0; c < 2000; c++) {
    const length = Math.floor(random() * 30);
    cases.push(Array.from({ length }, () => pieces[Math.floor(random() * pieces.length)]).join(''));
  }
  for (const raw of cases) assert.equal(shortLabel(raw), reference(raw), JSON.stringify(raw));
});
