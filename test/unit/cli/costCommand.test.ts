import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCostCommand } from '../../../src/cli/costCommand';
import { BUILT_IN_PRESETS } from '../../../src/cost/presets';

const fixture = join(__dirname, '../../fixtures/cost/texts/english.txt');

async function run(argv: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCostCommand(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: (async function* () {
      yield Buffer.from(stdin);
    })(),
  });
  return { code, stdout, stderr };
}

test('--json prints one document with exactly the documented keys', async () => {
  const { code, stdout, stderr } = await run([fixture, '--target', 'llama-3.1-8b', '--json']);
  assert.equal(code, 0, stderr);
  const doc = JSON.parse(stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(doc), [
    'target',
    'tokenizer',
    'exact',
    'tokens',
    'chatOverheadTokens',
    'contextWindow',
    'contextShare',
    'attentionScores',
    'attentionFlops',
    'linearFlops',
    'kvCacheBytes',
    'price',
    'priceTier',
    'warnings',
  ]);
  assert.equal(doc.target, 'llama-3.1-8b');
  assert.equal(doc.tokenizer, 'llama3');
  assert.equal(doc.exact, true);
  assert.equal(doc.chatOverheadTokens, null);
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
  // The OpenAI cookbook's framing of one user message: 3 per message + 1 for the role + 3 priming the reply.
  assert.equal(doc.chatOverheadTokens, 7);
  for (const key of ['attentionScores', 'attentionFlops', 'linearFlops', 'kvCacheBytes'])
    assert.equal(doc[key], null, key);
  assert.equal(doc.price, ((3 + 7) * 2.5) / 1e6);
  assert.match(String((doc.warnings as string[])[0]), /architecture is not public/);
});

test('text output lists the breakdown and the warnings', async () => {
  const { code, stdout } = await run(['-', '--target', 'gpt-4'], Array(7000).fill('word').join(' '));
  assert.equal(code, 0);
  assert.match(stdout, /^Target +GPT-4 \(gpt-4\)$/m);
  assert.match(stdout, /^Tokens +7,000 \(without BOS\)$/m);
  assert.match(stdout, /^Attention scores +unknown \(architecture not public\)$/m);
  assert.match(stdout, /^Chat framing +\+7 tokens \(one user message in the chat format; 7,007 in all\)$/m);
  assert.match(stdout, /^warning: 7,007 tokens use 85\.5 % of GPT-4's 8k-token context window\.$/m);
});

test('bad input: one line on stderr and exit 1; usage errors exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-cost-'));
  const binary = join(dir, 'blob.bin');
  writeFileSync(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1]));
  const cases: [string[], number, RegExp][] = [
    [[join(dir, 'missing.txt')], 1, /missing\.txt: no such file/],
    [[fixture, '--target', 'gpt-9'], 1, /unknown target "gpt-9"; valid ids: llama-3\.1-8b, .*gpt-4o, gpt-4, gpt-5, /],
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
  const fp8 = JSON.parse((await run(['-', '--target', 'llama-2-7b', '--kv-dtype', 'fp8', '--json'], text)).stdout) as {
    kvCacheBytes: number;
    warnings: string[];
  };
  assert.equal(fp8.kvCacheBytes, 3000 * 2 * 32 * 32 * 128);
  assert.equal(fp8.warnings.length, 0);
  const tight = JSON.parse(
    (await run(['-', '--target', 'llama-2-7b', '--kv-budget-gib=0.5', '--json'], text)).stdout,
  ) as { warnings: string[] };
  assert.match(tight.warnings[0], /exceeds the 512 MiB budget after 1,024 tokens/);
});

test('--presets adds a validated target file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pa-cost-'));
  const presets = join(dir, 'presets.json');
  writeFileSync(
    presets,
    JSON.stringify([
      {
        id: 'tiny',
        tokenizer: 'qwen2',
        contextWindow: 4,
        architecture: { layers: 1, attentionHeads: 2, kvHeads: 1, headDim: 4, hiddenSize: 8, parameters: 100 },
        kvDtype: 'fp32',
      },
    ]),
  );
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

const example = join(__dirname, '../../../examples/rag-restore-question.md');

test('every built-in target works with --json; estimates say so; framing is counted with the target tokenizer', async () => {
  for (const preset of BUILT_IN_PRESETS) {
    const { code, stdout, stderr } = await run([example, '--target', preset.id, '--json']);
    assert.equal(code, 0, `${preset.id}: ${stderr}`);
    const doc = JSON.parse(stdout) as {
      target: string;
      tokenizer: string;
      exact: boolean;
      tokens: number;
      chatOverheadTokens: number | null;
      contextShare: number;
    };
    assert.equal(doc.target, preset.id);
    assert.equal(doc.tokenizer, preset.tokenizer);
    assert.equal(doc.exact, preset.exact);
    assert.ok(doc.tokens > 100, preset.id);
    assert.equal(doc.contextShare, (doc.tokens + (doc.chatOverheadTokens ?? 0)) / preset.contextWindow, preset.id);
  }
  const json = async (id: string) =>
    JSON.parse((await run([example, '--target', id, '--json'])).stdout) as {
      chatOverheadTokens: number | null;
      priceTier: unknown;
      exact: boolean;
    };
  // <|im_start|> user \n … <|im_end|> \n <|im_start|> assistant \n: 3 + 5 tokens with Qwen3's added tokens.
  assert.equal((await json('qwen3-8b')).chatOverheadTokens, 8);
  // <start_of_turn> user \n … <end_of_turn> \n <start_of_turn> model \n.
  assert.equal((await json('gemma-3-27b')).chatOverheadTokens, 8);
  assert.equal((await json('deepseek-v3')).chatOverheadTokens, 2);
  assert.equal((await json('gpt-oss-120b')).chatOverheadTokens, 6);
  assert.equal((await json('claude-sonnet-4.5')).chatOverheadTokens, null);
  assert.deepEqual((await json('gemini-2.5-pro')).priceTier, { pricePerMillionInputTokens: 1.25, aboveTokens: null });
  const text = await run([example, '--target', 'claude-sonnet-4.5']);
  assert.match(text.stdout, /^Tokenizer +≈ estimate with Claude pre-3 BPE, 65k/m);
  assert.match(text.stdout, /^Tokens +≈[\d,]+ \(estimate\)$/m);
  const oss = await run([example, '--target', 'gpt-oss-120b']);
  assert.match(oss.stdout, /^Attention scores .*18 layers with a 128-token window, 18 global/m);
  assert.match(oss.stdout, /^Dense FLOPs .*5\.13B active of 117B params/m);
  const deepseek = await run([example, '--target', 'deepseek-v3']);
  assert.match(deepseek.stdout, /^KV cache .*68\.6 KiB per token, latent 512 \+ rotary key 64 per layer \(MLA\)/m);
  const pro = await run(['-', '--target', 'gemini-2.5-pro'], 'word '.repeat(210_000));
  assert.match(
    pro.stdout,
    /^Price \(input\) +≈\$0\.\d+ at \$2\.5\/M tokens \(tier for prompts above 200,000 tokens\)$/m,
  );
});
