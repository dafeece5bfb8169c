// Sectioning on real prompt shapes (the shipped examples, a .prompty file, XML-tagged RAG context, few-shot
// examples, nested headings, chat roles, jinja) and the per-section statistics against hand-computed values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import {
  attributionUnits,
  childrenOf,
  splitPromptSections,
  type PromptSection,
} from '../../../src/shared/promptSections';
import {
  positionProfile,
  sectionAttention,
  sectionMatrix,
  tokensInSpan,
  tokenUnits,
} from '../../../src/engine/analysis/sectionStats';

const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples');

function textOf(text: string, s: PromptSection): string {
  return text.slice(s.start, s.end);
}

/** Every section sits inside its parent, siblings do not overlap, and spans are trimmed. */
function assertTree(text: string, sections: readonly PromptSection[]): void {
  sections.forEach((s, i) => {
    assert.equal(s.index, i);
    assert.ok(s.end > s.start);
    assert.match(text[s.start], /\S/);
    assert.match(text[s.end - 1], /\S/);
    if (s.parent !== null) {
      const p = sections[s.parent];
      assert.ok(p.start <= s.start && s.end <= p.end, `${s.label} inside ${p.label}`);
      assert.equal(s.depth, p.depth + 1);
    } else assert.equal(s.depth, 0);
  });
  for (const parent of [null, ...sections.map((s) => s.index)]) {
    const kids = childrenOf(sections, parent);
    for (let i = 1; i < kids.length; i++) assert.ok(kids[i - 1].end <= kids[i].start, 'siblings are disjoint');
  }
}

/** The text's sections, after checking that they form a proper tree over it. */
function checkedSections(text: string): PromptSection[] {
  const sections = splitPromptSections(text);
  assertTree(text, sections);
  return sections;
}

const kindsAndLabels = (list: readonly PromptSection[]): string[] => list.map((s) => `${s.kind}:${s.label}`);

test('system-prompt.md: a preamble paragraph and five headings, each with its list or paragraph', async () => {
  const text = await fs.readFile(path.join(EXAMPLES, 'system-prompt.md'), 'utf8');
  const sections = checkedSections(text);
  const top = childrenOf(sections, null);
  assert.deepEqual(
    top.map((s) => s.kind),
    ['paragraph', 'heading', 'heading', 'heading', 'heading', 'heading'],
  );
  assert.deepEqual(
    top.slice(1).map((s) => s.label),
    ['Who you talk to', 'What you may do', 'What you must not do', 'How you answer', 'Tone'],
  );
  const mustNot = top[3];
  assert.ok(textOf(text, mustNot).startsWith('# What you must not do'));
  assert.ok(textOf(text, mustNot).endsWith('or these instructions.'));
  const list = childrenOf(sections, mustNot.index);
  assert.equal(list.length, 1);
  assert.equal(list[0].kind, 'list');
  const items = childrenOf(sections, list[0].index);
  assert.equal(items.length, 4);
  assert.ok(items.every((i) => i.kind === 'list-item'));
  assert.ok(textOf(text, items[1]).startsWith('- Never promise a refund'));
  assert.deepEqual(
    attributionUnits(sections).map((s) => s.index),
    top.map((s) => s.index),
  );
});

test('few-shot-triage.md: the instruction, eight examples, and the open query that is not an example', async () => {
  const text = await fs.readFile(path.join(EXAMPLES, 'few-shot-triage.md'), 'utf8');
  const sections = checkedSections(text);
  const top = childrenOf(sections, null);
  assert.deepEqual(
    top.map((s) => s.kind),
    ['paragraph', ...new Array(8).fill('example'), 'paragraph'],
  );
  assert.match(top[1].label, /^example 1: Ticket: I was charged/);
  assert.ok(textOf(text, top[5]).endsWith('Label: team=sync urgency=high'));
  assert.ok(textOf(text, top[9]).endsWith('Label:'));
});

test('rag-restore-question.md: rules, the answer-format list, twelve documents and the question', async () => {
  const text = await fs.readFile(path.join(EXAMPLES, 'rag-restore-question.md'), 'utf8');
  const sections = checkedSections(text);
  const docs = childrenOf(sections, null).filter((s) => /^\[D\d+\]/.test(s.label));
  assert.equal(docs.length, 12);
  assert.ok(textOf(text, docs[3]).startsWith('[D4] Title: Restoring permanently deleted items (administrators)'));
  const list = sections.find((s) => s.kind === 'list');
  assert.ok(list);
  assert.equal(childrenOf(sections, list.index).length, 3);
});

test('a .prompty file: front matter, system and user roles, variables, a jinja loop over a tag', () => {
  const text = [
    '---',
    'name: Support answer',
    'model:',
    '  api: chat',
    'inputs:',
    '  question:',
    '    type: string',
    '---',
    'system:',
    'You are a support assistant for {{company}}.',
    '',
    'Use the context below.',
    '{% for doc in documents %}',
    '<doc id="{{doc.id}}">{{doc.text}}</doc>',
    '{% endfor %}',
    '',
    'user:',
    '{{question}}',
    '',
  ].join('\n');
  const sections = checkedSections(text);
  const top = childrenOf(sections, null);
  assert.deepEqual(kindsAndLabels(top), ['frontmatter:front matter', 'role:system', 'role:user']);
  assert.ok(textOf(text, top[0]).endsWith('type: string\n---'));
  const system = childrenOf(sections, top[1].index);
  assert.deepEqual(
    system.map((s) => s.kind),
    ['paragraph', 'paragraph', 'jinja'],
  );
  assert.equal(system[2].label, '{% for doc in documents %}');
  assert.ok(textOf(text, system[2]).endsWith('{% endfor %}'));
  const tag = childrenOf(sections, system[2].index)[0];
  assert.equal(tag.kind, 'tag');
  assert.equal(tag.label, '<doc>');
  assert.deepEqual(
    childrenOf(sections, tag.index).map((s) => s.label),
    ['{{doc.id}}', '{{doc.text}}'],
  );
  assert.deepEqual(
    childrenOf(sections, system[0].index).map((s) => s.label),
    ['{{company}}'],
  );
  assert.deepEqual(
    childrenOf(sections, top[2].index).map((s) => `${s.kind}:${s.label}`),
    ['variable:{{question}}'],
  );
});

test('XML-tagged RAG context: nested tags, paragraphs inside a document, a one-line question tag, examples', () => {
  const text = [
    'Answer from the context only.',
    '',
    '<context>',
    '<document id="1">',
    'Paris is the capital of France.',
    '',
    'It has 2 million people.',
    '</document>',
    '<document id="2">',
    'Berlin is the capital of Germany.',
    '</document>',
    '</context>',
    '',
    '<examples>',
    '<example>Q: Capital of Spain? A: Madrid</example>',
    '<example>Q: Capital of Italy? A: Rome</example>',
    '</examples>',
    '',
    '<question>What is the capital of France?</question>',
  ].join('\n');
  const sections = checkedSections(text);
  const top = childrenOf(sections, null);
  assert.deepEqual(kindsAndLabels(top), [
    'paragraph:Answer from the context only.',
    'tag:<context>',
    'tag:<examples>',
    'tag:<question>',
  ]);
  const docs = childrenOf(sections, top[1].index);
  assert.deepEqual(
    docs.map((s) => s.label),
    ['<document>', '<document>'],
  );
  assert.deepEqual(
    childrenOf(sections, docs[0].index).map((s) => textOf(text, s)),
    ['Paris is the capital of France.', 'It has 2 million people.'],
  );
  assert.deepEqual(
    childrenOf(sections, top[2].index).map((s) => s.kind),
    ['example', 'example'],
  );
  assert.ok(textOf(text, top[3]).startsWith('<question>') && textOf(text, top[3]).endsWith('</question>'));
});

test('nested headings: levels nest, a fenced # line is not a heading, {name} inside code is not a variable', () => {
  const text =
    '# Guide\nIntro text.\n\n## Part A\nAlpha.\n\n### Detail\n- one\n- two\n\n```python\n# not a heading\nx = {y}\n```\n\n## Part B\nBeta {name}.\n';
  const sections = checkedSections(text);
  const guide = childrenOf(sections, null);
  assert.equal(guide.length, 1);
  assert.deepEqual(
    childrenOf(sections, guide[0].index).map((s) => `${s.kind}:${s.label}`),
    ['paragraph:Intro text.', 'heading:Part A', 'heading:Part B'],
  );
  const partA = childrenOf(sections, guide[0].index)[1];
  const detail = childrenOf(sections, partA.index)[1];
  assert.equal(detail.label, 'Detail');
  assert.deepEqual(
    childrenOf(sections, detail.index).map((s) => s.kind),
    ['list', 'code'],
  );
  assert.equal(childrenOf(sections, detail.index)[1].label, 'code (python)');
  assert.ok(!sections.some((s) => s.label === 'not a heading' || s.label === '{y}'));
  assert.ok(sections.some((s) => s.kind === 'variable' && s.label === '{name}'));
  // One top-level section: attribution descends to its children.
  assert.deepEqual(
    attributionUnits(sections).map((s) => s.label),
    ['Intro text.', 'Part A', 'Part B'],
  );
});

test('chat roles: ## System / ## User headings, User:/Assistant: turns, ChatML headers', () => {
  const md = splitPromptSections('## System\nBe brief.\n\n## User\nHello there.\n');
  assert.deepEqual(
    childrenOf(md, null).map((s) => `${s.kind}:${s.label}`),
    ['role:system', 'role:user'],
  );
  const turns = splitPromptSections('User: What is 2+2?\nAssistant: 4\nUser: And 3+3?\n');
  assert.deepEqual(
    childrenOf(turns, null).map((s) => `${s.kind}:${s.label}`),
    ['role:user', 'role:assistant', 'role:user'],
  );
  const chatml = '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n';
  const roles = childrenOf(splitPromptSections(chatml), null);
  assert.deepEqual(
    roles.map((s) => s.label),
    ['system', 'user'],
  );
  assert.ok(chatml.slice(roles[1].start, roles[1].end).endsWith('Hi<|im_end|>'));
  // A single "Note:" line is not a conversation.
  assert.deepEqual(
    childrenOf(splitPromptSections('Note: be brief.\n\nSecond paragraph.'), null).map((s) => s.kind),
    ['paragraph', 'paragraph'],
  );
});

test('section statistics equal hand-computed sums on a 5-token example', () => {
  const text = 'AB CD';
  const tokens = [
    { text: '', start: 0, end: 0, special: true },
    { text: 'A', start: 0, end: 1 },
    { text: 'B', start: 1, end: 2 },
    { text: ' C', start: 2, end: 4 },
    { text: 'D', start: 4, end: 5 },
  ];
  const units = [
    { start: 0, end: 2 },
    { start: 3, end: 5 },
  ];
  assert.equal(text.slice(3, 5), 'CD');
  assert.deepEqual(tokensInSpan(tokens, units[1]), [3, 4], '" C" is filed under C');
  const owner = tokenUnits(tokens, units);
  assert.deepEqual([...owner], [-1, 0, 0, 1, 1]);
  const received = Float32Array.of(0.5, 0.2, 0.1, 0.15, 0.05);
  const stats = sectionAttention(tokens, units, received);
  assert.ok(Math.abs(stats[0].attentionShare - 0.3) < 1e-6 && Math.abs(stats[0].perToken - 0.15) < 1e-6);
  assert.ok(Math.abs(stats[1].attentionShare - 0.2) < 1e-6);
  // Causal rows; query 3 puts 0.25 on A, 0.25 on B and 0.5 on itself; query 4 0.5 on B, 0.5 on D.
  const n = 5;
  const a = new Float32Array(n * n);
  const rows = [[1], [0.5, 0.5], [0.2, 0.3, 0.5], [0, 0.25, 0.25, 0.5], [0, 0, 0.5, 0, 0.5]];
  rows.forEach((r, q) => r.forEach((w, k) => (a[q * n + k] = w)));
  const m = sectionMatrix(a, n, owner, 2);
  assert.deepEqual(
    [...m].map((v) => Number(v.toFixed(6))),
    [(0.5 + 0.8) / 2, 0, (0.5 + 0.5) / 2, (0.5 + 0.5) / 2].map((v) => Number(v.toFixed(6))),
  );
  const profile = positionProfile(a, n, 2);
  assert.deepEqual(profile.queries, [3, 4]);
  // Keys 1..4 at n = 5 fall in deciles 2, 4, 6, 8; masses 0.25, 0.75, 0.5, 0.5 of 2.
  assert.deepEqual(
    profile.deciles.map((v) => Number(v.toFixed(6))),
    [0, 0, 0.125, 0, 0.375, 0, 0.25, 0, 0.25, 0],
  );
  assert.equal(profile.sink, 0);
});
