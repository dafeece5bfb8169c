import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCostCommand } from '../../../src/cli/costCommand';

const fixture = join(__dirname, '../../fixtures/cost/texts/english.txt');

async function run(argv: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCostCommand(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: (async function* () { yield Buffer.from(stdin); })(),
  });
  return { code, stdout, stderr };
}

test('--json prints one document with exactly the documented keys', async () => {
  const { code, stdout, stderr } = await run([fixture, '--target', 'llama-3.1-8b', '--json']);
  assert.equal(code, 0, stderr);
  const doc = JSON.parse(stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(doc), ['target', 'tokens', 'contextWindow', 'contextShare', 'attentionScores', 'attentionFlops', 'linearFlops', 'kvCacheBytes', 'price', 'warnings']);
  assert.equal(doc.target, 'llama-3.1-8b');
  assert.equal(doc.tokens, 113);
  assert.equal(doc.contextWindow, 131072);
  assert.equal(doc.kvCacheBytes, 113 * 131072);
  assert.equal(doc.attentionScores, 113 * 113 * 32 * 32);
  assert.equal(doc.price, null);
  assert.deepEqual(doc.warnings, []);
});

test('unknown figures are null for a target without a public architecture; stdin works', async () => {
  const { code, stdout } = await run(['-', '--target=gpt-4o', '--json'], 'Hello world!');
  assert.equal(code, 0);
  const doc = JSON.parse(stdout) as Record<string, unknown>;
  assert.equal(doc.tokens, 3);
  for (const key of ['attentionScores', 'attentionFlops', 'linearFlops', 'kvCacheBytes']) assert.equal(doc[key], null, key);
  assert.equal(doc.price, 3 * 2.5 / 1e6);
  assert.match(String((doc.warnings as string[])[0]), /architecture is not public/);
});

test('text output lists the breakdown and the warnings', async () => {
  const { code, stdout } = await run(['-', '--target', 'gpt-4'], Array(7000).fill('word').join(' '));
  assert.equal(code, 0);
  assert.match(stdout, /^Target +GPT-4 \(gpt-4\)$/m);
  assert.match(stdout, /^Tokens +7,000 \(without BOS\)$/m);
  assert.match(stdout, /^Attention scores +unknown \(architecture not public\)$/m);
  assert.match(stdout, /^warning: 7,000 tokens use 85\.4 % of GPT-4's 8k-token context window\.$/m);
});

test('bad input: one line on stderr and exit 1; usage errors exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-cost-'));
  const binary = join(dir, 'blob.bin');
  writeFileSync(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1]));
  const cases: [string[], number, RegExp][] = [
    [[join(dir, 'missing.txt')], 1, /missing\.txt: no such file/],
    [[fixture, '--target', 'gpt-9'], 1, /unknown target "gpt-9"; valid ids: llama-3\.1-8b, .*gpt-4o, gpt-4/],
    [[binary], 1, /looks like a binary file/],
    [[dir], 1, /is a directory/],
    [[], 2, /missing <file\|->/],
    [[fixture, '--frobnicate'], 2, /unknown option --frobnicate/],
    [[fixture, '--target'], 2, /--target needs a value/],
    [[fixture, fixture], 2, /unexpected argument/],
    [[fixture, '--kv-budget-gib', 'lots'], 2, /--kv-budget-gib must be a number/],
  ];
  for (const [argv, expectedCode, message] of cases) {
    const { code, stdout, stderr } = await run(argv);
    assert.equal(code, expectedCode, argv.join(' '));
    assert.equal(stdout, '');
    assert.match(stderr, message);
    assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
  }
});

test('--kv-dtype and --kv-budget-gib change the KV figures and warning', async () => {
  const text = Array(3000).fill('token').join(' ');
  const fp8 = JSON.parse((await run(['-', '--target', 'llama-2-7b', '--kv-dtype', 'fp8', '--json'], text)).stdout) as { kvCacheBytes: number; warnings: string[] };
  assert.equal(fp8.kvCacheBytes, 3000 * 2 * 32 * 32 * 128);
  assert.equal(fp8.warnings.length, 0);
  const tight = JSON.parse((await run(['-', '--target', 'llama-2-7b', '--kv-budget-gib=0.5', '--json'], text)).stdout) as { warnings: string[] };
  assert.match(tight.warnings[0], /exceeds the 512 MiB budget after 1,024 tokens/);
});

test('--presets adds a validated target file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-cost-'));
  const presets = join(dir, 'presets.json');
  writeFileSync(presets, JSON.stringify([{ id: 'tiny', tokenizer: 'qwen2', contextWindow: 4, architecture: { layers: 1, attentionHeads: 2, kvHeads: 1, headDim: 4, hiddenSize: 8, parameters: 100 }, kvDtype: 'fp32' }]));
  const ok = await run(['-', '--presets', presets, '--target', 'tiny', '--json'], 'Hello world, hi');
  const doc = JSON.parse(ok.stdout) as { tokens: number; kvCacheBytes: number; warnings: string[] };
  assert.equal(doc.tokens, 4);
  assert.equal(doc.kvCacheBytes, 4 * 2 * 1 * 1 * 4 * 4);
  assert.match(doc.warnings[0], /^4 tokens use 100 % of tiny's 4-token context window\.$/);
  writeFileSync(presets, JSON.stringify([{ id: 'tiny', tokenizer: 'qwen2', contextWindow: 0 }]));
  const bad = await run(['-', '--presets', presets, '--target', 'tiny'], 'x');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /preset "tiny": "contextWindow" must be a positive integer/);
});
