// Sectioning with a memo kept across a document's edits: after every edit the sections equal those of sectioning
// the whole text afresh, also for edits that open or close fences, tags, jinja blocks, headings and role lines,
// and the memo does reuse the regions the edit did not touch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { coverSections, splitPromptSections } from '../../../src/shared/promptSections';
import { SectionMemo } from '../../../src/shared/sectionMemo';
import { seededRandom } from '../../../src/shared/seededRandom';
import { randomEdit } from '../../helpers/randomEdit';

const CORPUS = path.resolve(__dirname, '..', '..', 'fixtures', 'sections');
const prompts = fs
  .readdirSync(CORPUS)
  .filter((file) => file.endsWith('.prompt'))
  .sort()
  .map((file) => fs.readFileSync(path.join(CORPUS, file), 'utf8'));

/** Keystrokes plus the pieces that change structure, and the halves of closing markers (a tag or jinja block
 * then closes only past a region's end). */
const INSERTS = [
  'x',
  ' ',
  '\n',
  '\n\n',
  '# Heading\n',
  '## Sub\n',
  '```\n',
  '~~~',
  '---\n',
  '- item\n',
  '1. one\n',
  'User: hi\n',
  'assistant:\n',
  '<example>\n',
  '</example>',
  '</exa',
  'mple>',
  '<notes>',
  '</notes>\n',
  '{% if x %}\n',
  '{% endif %}',
  '{% end',
  'if %}',
  '{name}',
  '{{ var }}',
  '<|im_start|>user\n',
  '<|im_end|>\n',
  'Input: a\nOutput: b\n',
  '\t',
];

test('with a memo, the sections after each edit equal a fresh sectioning of the whole text', () => {
  const random = seededRandom(11);
  // Several prompts joined, so that regions sit between other regions, as in a long document.
  for (let round = 0; round < 6; round++) {
    let text = Array.from({ length: 6 }, () => prompts[Math.floor(random() * prompts.length)]).join('\n\n');
    const memo = new SectionMemo();
    for (let i = 0; i < 150; i++) {
      text = randomEdit(text, random, INSERTS, 0.3, 12).text;
      const withMemo = splitPromptSections(text, memo);
      assert.deepEqual(withMemo, splitPromptSections(text), `round ${round} edit ${i}`);
    }
  }
});

test('a keystroke re-parses only the regions on the way to it', () => {
  const text = prompts.join('\n\n');
  const memo = new SectionMemo();
  splitPromptSections(text, memo);
  const parsed = memo.misses;
  const at = text.indexOf('\n', Math.floor(text.length / 2));
  const edited = `${text.slice(0, at)} word${text.slice(at)}`;
  const sections = splitPromptSections(edited, memo);
  assert.deepEqual(sections, splitPromptSections(edited));
  assert.deepEqual(coverSections(edited, sections), coverSections(edited));
  assert.ok(memo.hits > 0, 'regions were reused');
  assert.ok(memo.misses <= 6, `${memo.misses} of ${parsed} regions parsed again`);
});

test('a jinja block that closes only past its region is parsed again when the text past the region changes', () => {
  const filler = 'Some words about the task, long enough that the region is kept in the memo.\n'.repeat(3);
  const head = `# A\n${filler}{% if x %}\nfoo {% endif\n# B\n`;
  const memo = new SectionMemo();
  for (const tail of ['%}\nmore\n', '% }\nmore\n', '%}\nmore\n']) {
    const text = head + tail;
    assert.deepEqual(splitPromptSections(text, memo), splitPromptSections(text), JSON.stringify(tail));
  }
});
