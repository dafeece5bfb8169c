// The one section model on a corpus of prompts in the shapes people write (test/fixtures/sections/*.prompt):
// each prompt's outline must equal its hand-checked NAME.outline, line for line. Also: the tree is proper, the
// CodeLens' cover sections tile the text, and Inspect as Chat splits only transcripts into messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chatMessages } from '../../../src/engine/runtime/chatMessages';
import { childrenOf, coverSections, splitPromptSections, type PromptSection } from '../../../src/shared/promptSections';

const CORPUS = path.resolve(__dirname, '..', '..', 'fixtures', 'sections');
const names = fs
  .readdirSync(CORPUS)
  .filter((file) => file.endsWith('.prompt'))
  .map((file) => file.slice(0, -'.prompt'.length))
  .sort();

function read(name: string, ext: string): string {
  return fs.readFileSync(path.join(CORPUS, `${name}.${ext}`), 'utf8');
}

/** One line per section: two spaces per level, the kind, a colon and the label. */
function outline(sections: readonly PromptSection[]): string {
  return sections.map((s) => `${'  '.repeat(s.depth)}${s.kind}: ${s.label}\n`).join('');
}

function assertTree(text: string, sections: readonly PromptSection[], name: string): void {
  sections.forEach((s, i) => {
    assert.equal(s.index, i, name);
    assert.match(text[s.start], /\S/, `${name}: ${s.label} starts on whitespace`);
    assert.match(text[s.end - 1], /\S/, `${name}: ${s.label} ends on whitespace`);
    if (s.parent !== null) {
      const p = sections[s.parent];
      assert.ok(p.start <= s.start && s.end <= p.end, `${name}: ${s.label} inside ${p.label}`);
    }
  });
  for (const parent of [null, ...sections.map((s) => s.index)]) {
    const kids = childrenOf(sections, parent);
    for (let i = 1; i < kids.length; i++) assert.ok(kids[i - 1].end <= kids[i].start, `${name}: siblings overlap`);
  }
}

test('the corpus holds at least 25 prompts, each with its outline', () => {
  assert.ok(names.length >= 25, `${names.length} prompts`);
  for (const name of names) assert.ok(fs.existsSync(path.join(CORPUS, `${name}.outline`)), `${name}.outline`);
});

for (const name of names) {
  test(`outline of ${name}`, () => {
    const text = read(name, 'prompt');
    const sections = splitPromptSections(text);
    assertTree(text, sections, name);
    assert.equal(outline(sections), read(name, 'outline'));
    // The CodeLens sections tile the text, in order, each anchored on its own first character.
    const cover = coverSections(text, sections);
    if (text.trim()) {
      assert.equal(cover[0].start, 0);
      assert.equal(cover[cover.length - 1].end, text.length);
    }
    for (let i = 1; i < cover.length; i++) assert.equal(cover[i].start, cover[i - 1].end, name);
    for (const c of cover) assert.ok(c.start <= c.anchor && c.anchor < c.end, name);
  });
}

test('the issue’s prompt: Examples holds its turns, Output format is its own section, the chat is one system message', () => {
  const text = read('issue-examples-output', 'prompt');
  const sections = splitPromptSections(text);
  const top = childrenOf(sections, null);
  assert.deepEqual(
    top.map((s) => s.label),
    ['Role', 'Rules', 'Examples', 'Output format'],
  );
  const examples = top[2];
  const turns = sections.filter((s) => s.kind === 'turn');
  assert.equal(turns.length, 4);
  assert.ok(turns.every((t) => t.start > examples.start && t.end <= examples.end));
  assert.ok(text.slice(examples.start, examples.end).trimEnd().endsWith('I can open a ticket for you.'));
  assert.ok(text.slice(top[3].start, top[3].end).startsWith('# Output format'));
  assert.deepEqual(
    coverSections(text).map((c) => c.title),
    ['Role', 'Rules', 'Examples', 'Output format'],
  );
  const chat = chatMessages(text);
  assert.deepEqual(
    chat.map((m) => m.role),
    ['system'],
  );
  assert.ok(chat[0].content.endsWith('at most 80 words.'));
});

test('Inspect as Chat: transcripts split into their turns, everything else is one system message', () => {
  const roles = (name: string) => chatMessages(read(name, 'prompt')).map((m) => m.role);
  assert.deepEqual(roles('chat-inline-transcript'), ['system', 'user', 'assistant', 'user']);
  assert.deepEqual(roles('chat-bare-roles'), ['system', 'user', 'assistant', 'user']);
  assert.deepEqual(roles('chatml'), ['system', 'user', 'assistant']);
  assert.deepEqual(roles('role-headings'), ['system', 'user', 'assistant']);
  assert.deepEqual(roles('prompty-basic'), ['system', 'user']);
  // The prompty system block keeps its # Examples turns and its # Output format.
  const prompty = read('prompty-with-headings', 'prompt');
  const chat = chatMessages(prompty);
  assert.deepEqual(
    chat.map((m) => m.role),
    ['system', 'user'],
  );
  assert.ok(chat[0].content.includes('Assistant: auth') && chat[0].content.endsWith('sync or other.'));
  assert.equal(chat[1].content, '{{ticket}}');
  assert.equal(prompty.slice(chat[1].start ?? -1, (chat[1].start ?? 0) + chat[1].content.length), '{{ticket}}');
  // ChatML: the message ends before <|im_end|>.
  assert.equal(chatMessages(read('chatml', 'prompt'))[2].content, 'Buenos días.');
  for (const name of ['human-ai-in-paragraph', 'multiline-turns', 'qa-few-shot', 'xml-instructions-examples'])
    assert.deepEqual(roles(name), ['system'], name);
});

test('a heading ends a User: turn, also at the top of a transcript', () => {
  const text = 'User: Hi\nAssistant: Hello!\n\n# Notes\nUser: nested example\nAssistant: yes\n';
  const top = childrenOf(splitPromptSections(text), null);
  assert.deepEqual(
    top.map((s) => `${s.kind}: ${s.label}`),
    ['role: user', 'role: assistant', 'heading: Notes'],
  );
  assert.equal(text.slice(top[1].start, top[1].end), 'Assistant: Hello!');
});
