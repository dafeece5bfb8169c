// The attribute and diff commands, and inspect's sections, through the real CLI bundle on the embedded
// model: the documented JSON shapes, the source section first, token counts equal to the tokenizer's,
// one-line errors with a non-zero exit, and "no difference" for identical files.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ModelTokenizer } from '../../../src/engine/runtime/modelTokenizer';
import { buildBundle } from '../../helpers/buildBundle';
import { runCli, type CliRun } from '../../helpers/runCli';
import { LIBRARY_PARAGRAPHS as PARAGRAPHS, LIBRARY_PROMPT as PROMPT } from '../../helpers/libraryPrompt';
import { makeTempDir, removeTempDir } from '../../helpers/tinyModel';

const MODEL = path.resolve(__dirname, '..', '..', '..', 'models', 'pa-mini-llama');
let cli = '';
let dir = '';

type Run = CliRun;

function run(args: string[], stdin = ''): Promise<Run> {
  return runCli(cli, [...args, '--model', MODEL, '--provider', 'cpu', '--cache-dir', path.join(dir, 'cache')], {
    cwd: dir,
    stdin,
  });
}

async function file(name: string, content: string): Promise<string> {
  const target = path.join(dir, name);
  await fs.writeFile(target, content);
  return target;
}

function assertOneLine(result: Run, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, pattern);
  if (code === 1) assert.equal(result.stderr.trim().split('\n').length, 1);
  assert.ok(!/\n\s+at /.test(result.stderr), 'no stack trace');
}

before(async () => {
  cli = await buildBundle('src/cli/cli.ts', 'cli-explain');
  dir = await makeTempDir();
});
after(() => removeTempDir(dir));

/** The keys of a section as `inspect --format json` writes it; attribute adds its own after them. */
const SECTION_KEYS = ['index', 'kind', 'label', 'start', 'end', 'tokens', 'attentionShare'];

test('attribute --format json: one document in the documented shape; the code paragraph ranks first', async () => {
  const prompt = await file('prompt.txt', PROMPT);
  const answer = await file('answer.txt', 'XK-4471\n');
  const result = await run(['attribute', prompt, '--answer', answer, '--format', 'json']);
  assert.equal(result.code, 0, result.stderr);
  const doc = JSON.parse(result.stdout) as Record<string, unknown> & {
    answer: { text: string; tokens: number; logProb: number };
    sections: { index: number; start: number; ablation: { logProbDelta: number } }[];
    faithfulness: { passed: boolean; marginNats: number; logProbWithPrompt: number };
    savings: { sections: number[] };
  };
  assert.deepEqual(Object.keys(doc), ['model', 'answer', 'sections', 'method', 'faithfulness', 'savings']);
  assert.deepEqual(Object.keys(doc.faithfulness), [
    'logProbWithPrompt',
    'logProbWithoutPrompt',
    'marginNats',
    'requiredNats',
    'passed',
  ]);
  assert.equal(doc.faithfulness.passed, true);
  assert.equal(doc.faithfulness.logProbWithPrompt, doc.answer.logProb);
  assert.equal(doc.method, 'leave-one-out');
  assert.deepEqual(Object.keys(doc.answer), ['text', 'tokens', 'logProb']);
  assert.equal(doc.answer.text, ' XK-4471');
  assert.ok(doc.answer.logProb < 0);
  assert.deepEqual(Object.keys(doc.sections[0]), [...SECTION_KEYS, 'ablation', 'attention', 'disagreement']);
  const first = [...doc.sections].sort((a, b) => a.ablation.logProbDelta - b.ablation.logProbDelta)[0];
  assert.equal(first.start, PROMPT.indexOf(PARAGRAPHS[1]));
  assert.deepEqual(Object.keys(doc.savings), ['sections', 'tokens', 'attentionFlopsShare', 'logProbDelta']);
  assert.ok(!doc.savings.sections.includes(first.index));
});

test('attribute: the answer after ---answer--- on stdin, and --generate N as text', async () => {
  const separated = await run(['attribute', '-', '--format', 'json'], `${PROMPT}\n---answer---\nXK-4471\n`);
  assert.equal(separated.code, 0, separated.stderr);
  assert.equal((JSON.parse(separated.stdout) as { answer: { text: string } }).answer.text, ' XK-4471');
  const generated = await run(['attribute', await file('g.txt', PROMPT), '--generate', '2', '--format', 'text']);
  assert.equal(generated.code, 0, generated.stderr);
  assert.match(generated.stdout, /Method: leave-one-out, 6 ablations/);
  assert.match(generated.stdout, /^Savings: /m);
});

test('attribute --span START:END: the JSON names the span; a bad span is a usage error', async () => {
  const prompt = await file('span.txt', PROMPT);
  const answer = await file('span-answer.txt', 'XK-4471, the code.\n');
  const result = await run(['attribute', prompt, '--answer', answer, '--span', '1:8', '--format', 'json']);
  assert.equal(result.code, 0, result.stderr);
  const doc = JSON.parse(result.stdout) as { span: { start: number; end: number; text: string } };
  assert.deepEqual(doc.span, { start: 1, end: 8, text: 'XK-4471' });
  assertOneLine(await run(['attribute', prompt, '--answer', answer, '--span', '8:1']), 2, /--span needs START:END/);
  assertOneLine(await run(['attribute', prompt, '--answer', answer, '--span', '1:99']), 1, /ends past the answer/);
});

test('attribute: bad input is one line and a non-zero exit', async () => {
  const prompt = await file('p2.txt', PROMPT);
  assertOneLine(await run(['attribute', prompt, '--answer', await file('empty.txt', ' \n')]), 1, /answer is empty/);
  assertOneLine(
    await run(['attribute', prompt, '--answer', await file('long.txt', 'word '.repeat(2100))]),
    1,
    /more than the model's context of 2048/,
  );
  assertOneLine(await run(['attribute', prompt, '--answer', path.join(dir, 'missing.txt')]), 1, /no such file/);
  assertOneLine(await run(['attribute', prompt]), 2, /--answer <file> or --generate N/);
  assertOneLine(await run(['attribute', prompt, '--generate', '0']), 2, /--generate needs a positive number/);
  assertOneLine(await run(['attribute', prompt, '--generate', '2', '--answer', prompt]), 2, /not both/);
});

test('diff --format json: statuses, token totals equal to the tokenizer counts; identical files: "no difference", exit 0', async () => {
  const oldText = PROMPT;
  const newText = PROMPT.replace('up to five books', 'up to ten books')
    .replace(`${PARAGRAPHS[3]}\n\n`, '')
    .replace('Question:', 'Note: the desk closes at noon on Saturdays.\n\nQuestion:');
  const oldFile = await file('old.txt', oldText);
  const newFile = await file('new.txt', newText);
  const result = await run(['diff', oldFile, newFile, '--format', 'json']);
  assert.equal(result.code, 0, result.stderr);
  const doc = JSON.parse(result.stdout) as {
    model: { id: string };
    old: { tokens: number; attentionFlops: number };
    new: { tokens: number; attentionFlops: number };
    tokenDelta: number;
    sections: { status: string; oldTokens: number; newTokens: number }[];
  };
  assert.deepEqual(Object.keys(doc), ['model', 'old', 'new', 'tokenDelta', 'sections']);
  assert.equal(doc.model.id, 'pa-mini-llama', 'the model whose tokenizer counted');
  const tokenizer = await ModelTokenizer.load(MODEL);
  assert.equal(doc.old.tokens, tokenizer.tokenize(oldText).ids.length);
  assert.equal(doc.new.tokens, tokenizer.tokenize(newText).ids.length);
  assert.equal(doc.tokenDelta, doc.new.tokens - doc.old.tokens);
  assert.ok(doc.new.attentionFlops < doc.old.attentionFlops === doc.new.tokens < doc.old.tokens);
  assert.deepEqual(
    doc.sections.map((s) => s.status),
    ['same', 'same', 'changed', 'removed', 'same', 'added', 'same'],
  );
  assert.deepEqual(Object.keys(doc.sections[0]), [
    'status',
    'oldIndex',
    'newIndex',
    'label',
    'oldTokens',
    'newTokens',
    'oldAttentionShare',
    'newAttentionShare',
  ]);
  const removed = doc.sections[3];
  assert.equal(removed.newTokens, 0);
  assert.equal(removed.oldTokens, tokenizer.tokenize(PARAGRAPHS[3]).ids.length - 1, 'the paragraph without BOS');
  const same = await run(['diff', oldFile, await file('copy.txt', oldText)]);
  assert.equal(same.code, 0);
  assert.equal(same.stdout, 'no difference\n');
  assertOneLine(await run(['diff', oldFile]), 2, /two files/);
});

test('inspect --format json gains sections with index, kind, label, start, end, tokens, attentionShare', async () => {
  const result = await run([
    'inspect',
    await file('i.md', '# Rules\nBe brief.\n\n# Context\n<doc>\nParis is in France.\n</doc>\n'),
    '--format',
    'json',
  ]);
  assert.equal(result.code, 0, result.stderr);
  const doc = JSON.parse(result.stdout) as {
    sections: {
      index: number;
      kind: string;
      label: string;
      start: number;
      end: number;
      tokens: number;
      attentionShare: number;
    }[];
  };
  assert.deepEqual(
    doc.sections.map((s) => `${s.kind}:${s.label}`),
    ['heading:Rules', 'paragraph:Be brief.', 'heading:Context', 'tag:<doc>', 'paragraph:Paris is in France.'],
  );
  assert.deepEqual(Object.keys(doc.sections[0]), SECTION_KEYS);
  assert.ok(doc.sections.every((s) => s.tokens > 0 && s.attentionShare > 0 && s.attentionShare < 1));
  assert.ok(doc.sections[0].attentionShare >= doc.sections[1].attentionShare, 'a heading section holds its paragraph');
});
