// The real `prompt-attention cost` bundle, spawned as a user runs it (tokenizer assets found from the bundle).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildBundle } from '../../helpers/buildBundle';
import { runCli, type CliRun } from '../../helpers/runCli';

let cli = '';
const fixtures = join(__dirname, '../../fixtures/cost/texts');

const run = (args: string[], stdin = ''): Promise<CliRun> =>
  runCli(cli, ['cost', ...args], { cwd: process.cwd(), stdin });

before(async () => {
  cli = await buildBundle('src/cli/cli.ts', 'cli-cost');
});

test('cost --json from the bundle: exact Qwen2.5 and Mistral counts, one JSON document', async () => {
  const qwen = await run([join(fixtures, 'markdown-prompt.md'), '--target', 'qwen2.5-7b', '--json']);
  assert.equal(qwen.code, 0, qwen.stderr);
  const doc = JSON.parse(qwen.stdout) as { target: string; tokens: number; kvCacheBytes: number };
  assert.equal(doc.target, 'qwen2.5-7b');
  assert.equal(doc.tokens, 189);
  assert.equal(doc.kvCacheBytes, 189 * 2 * 28 * 4 * 128 * 2);
  const mistral = await run(['-', '--target', 'mistral-7b', '--json'], 'Hello world!');
  assert.equal((JSON.parse(mistral.stdout) as { tokens: number }).tokens, 3);
});

test('cost errors from the bundle: one stderr line, exit 1 for bad input and 2 for usage', async () => {
  const unknown = await run([join(fixtures, 'english.txt'), '--target', 'claude']);
  assert.equal(unknown.code, 1);
  assert.match(
    unknown.stderr,
    /^prompt-attention cost: unknown target "claude"; valid ids: llama-3\.1-8b, llama-3\.1-70b, .*, claude-sonnet-4\.5, .*, gemini-3-pro\n$/,
  );
  const usage = await run([]);
  assert.equal(usage.code, 2);
  assert.equal(usage.stderr.split('\n').length, 2);
  const text = await run([join(fixtures, 'english.txt'), '--target', 'llama-2-7b']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^Tokens +132 \(without BOS\)$/m);
});
