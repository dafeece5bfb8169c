import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { buildBundle } from '../../helpers/buildBundle';
import { runCli, type CliRun } from '../../helpers/runCli';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../helpers/tinyModel';

let cli = '';
let dir = '';
let model = '';

type Run = CliRun;

function run(args: string[], stdin?: string): Promise<Run> {
  return runCli(cli, args, { cwd: dir, stdin, env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') } });
}

/** `inspect <input>` with the tiny model on the CPU in `format`, then `extra`. */
function inspectArgs(input: string, format: string, ...extra: string[]): string[] {
  return ['inspect', input, '--model', model, '--provider', 'cpu', '--format', format, ...extra];
}

async function file(name: string, content: string | Buffer): Promise<string> {
  const target = path.join(dir, name);
  await fs.writeFile(target, content);
  return target;
}

/** Exit code and one stderr line, no stack trace. */
function assertOneLineError(result: Run, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `exit code (stderr: ${result.stderr})`);
  assert.match(result.stderr, pattern);
  assert.equal(result.stdout, '');
  assert.ok(!/\n\s+at /.test(result.stderr), 'no stack trace');
  if (code === 1) assert.equal(result.stderr.trim().split('\n').length, 1, 'one line');
}

before(async () => {
  cli = await buildBundle('src/cli/cli.ts', 'cli');
  // The HTML report inlines the webview bundle found next to cli.js.
  await fs.writeFile(path.join(path.dirname(cli), 'webview.js'), 'window.__paTestBundle = true;');
  await fs.writeFile(path.join(path.dirname(cli), 'webview.css'), '.pa-test { color: red; }');
  dir = await makeTempDir();
  model = (await writeTinyModel(path.join(dir, 'model'), { layers: 2, heads: 4, maxPositions: 1024 })).folder;
});

after(() => removeTempDir(dir));

const PROMPT = 'You are a helpful assistant. Answer briefly: café, 中文, 🙂.\nThe end.';

test('--format json prints exactly one document with the documented shape', async () => {
  const input = await file('prompt.txt', PROMPT);
  const result = await run(['inspect', input, '--model', model, '--provider', 'cpu', '--format', 'json']);
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ['model', 'tokens', 'next', 'heads', 'drivers', 'sections']);
  const m = json.model as Record<string, unknown>;
  assert.deepEqual(Object.keys(m), ['id', 'layers', 'heads', 'maxTokens', 'provider', 'file', 'dtype', 'format']);
  assert.equal(m.format, 'onnx');
  assert.deepEqual([m.file, m.dtype], ['onnx/model.onnx', 'fp32'], 'the file that ran and its dtype');
  assert.deepEqual([m.id, m.layers, m.heads, m.maxTokens, m.provider], ['model', 2, 4, 1024, 'cpu']);
  const tokens = json.tokens as { id: number; text: string; start: number; end: number }[];
  assert.deepEqual({ ...tokens[0], id: 0 }, { id: 0, text: '', start: 0, end: 0 }, 'BOS first, empty span');
  for (const t of tokens) {
    assert.deepEqual(Object.keys(t), ['id', 'text', 'start', 'end']);
    assert.ok(Number.isInteger(t.id) && t.id >= 0);
    assert.equal(t.text, PROMPT.slice(t.start, t.end));
  }
  assert.equal(tokens.map((t) => t.text).join(''), PROMPT);
  const next = json.next as { id: number; text: string; p: number }[];
  assert.equal(next.length, 10, 'the 10 most likely next tokens');
  for (const t of next) assert.deepEqual(Object.keys(t), ['id', 'text', 'p']);
  for (let i = 1; i < next.length; i++) assert.ok(next[i - 1].p >= next[i].p, 'most likely first');
  assert.ok(next[0].p > 0 && next.reduce((sum, t) => sum + t.p, 0) <= 1 + 1e-6);
  const heads = json.heads as { layer: number; head: number; role: string; scores: Record<string, number> }[];
  assert.equal(heads.length, 2 * 4);
  assert.deepEqual(Object.keys(heads[0]), ['layer', 'head', 'role', 'scores']);
  assert.deepEqual(Object.keys(heads[0].scores).sort(), ['broad', 'induction', 'local', 'previousToken', 'sink']);
  assert.ok(['previous-token', 'sink', 'induction', 'local', 'broad'].includes(heads[0].role));
  const drivers = json.drivers as { index: number; text: string; received: number }[];
  assert.ok(drivers.length > 0);
  for (const d of drivers) {
    assert.deepEqual(Object.keys(d), ['index', 'text', 'received']);
    assert.equal(d.text, tokens[d.index].text);
    assert.ok(d.index > 0, 'the sink is not a driver');
  }
});

test('--dense adds attention[layer][head][query][key]: causal rows that sum to 1', async () => {
  const result = await run(
    ['inspect', '-', '--model', model, '--provider', 'cpu', '--format', 'json', '--dense'],
    PROMPT,
  );
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout) as { tokens: unknown[]; attention: number[][][][] };
  const n = json.tokens.length;
  assert.equal(json.attention.length, 2);
  assert.equal(json.attention[0].length, 4);
  for (const layer of json.attention) {
    for (const head of layer) {
      assert.equal(head.length, n);
      head.forEach((row, q) => {
        assert.equal(row.length, n);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4);
        for (let k = q + 1; k < n; k++) assert.equal(row[k], 0);
      });
    }
  }
});

test('--dense refuses more than 512 tokens with a clear message', async () => {
  const input = await file('long.txt', 'alpha beta gamma delta '.repeat(200));
  const result = await run(['inspect', input, '--model', model, '--provider', 'cpu', '--format', 'json', '--dense']);
  assertOneLineError(result, 1, /--dense prints full attention for at most 512 tokens; this input has \d+/);
});

test('--format html writes <input>.attention.html in the current folder, self-contained, and prints its path', async () => {
  const input = await file('report-input.md', PROMPT);
  const result = await run(['inspect', input, '--model', model, '--provider', 'cpu', '--format', 'html']);
  assert.equal(result.code, 0, result.stderr);
  const out = path.join(dir, 'report-input.md.attention.html');
  assert.equal(result.stdout.trim(), out);
  const html = await fs.readFile(out, 'utf8');
  assert.ok(html.includes('window.__paTestBundle = true;'), 'webview bundle inlined');
  assert.ok(html.includes('.pa-test { color: red; }'), 'css inlined');
  assert.ok(!/<script[^>]+src=|<link[^>]+href=/i.test(html), 'no external resources');
});

test('--format text prints a short terminal summary; --out writes to a file', async () => {
  const input = await file('summary.txt', PROMPT);
  const result = await run(['inspect', input, '--model', model, '--provider', 'cpu', '--format', 'text']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Model model: 2 layers × 4 heads/);
  assert.match(result.stdout, /Head roles/);
  const out = path.join(dir, 'out.json');
  const written = await run(inspectArgs(input, 'json', '--out', out));
  assert.equal(written.code, 0, written.stderr);
  assert.ok(JSON.parse(await fs.readFile(out, 'utf8')).tokens.length > 5);
});

test('more tokens than --max-tokens: the window is inspected', async () => {
  const content = 'one two three four five six seven eight nine ten eleven twelve';
  const input = await file('window.txt', content);
  const result = await run(inspectArgs(input, 'json', '--max-tokens', '5', '--window', 'end'));
  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout) as { tokens: { text: string; end: number }[] };
  assert.equal(json.tokens.length, 5);
  assert.equal(json.tokens[0].text, '', 'BOS kept');
  assert.equal(json.tokens.at(-1)?.end, content.length, 'the last tokens');
});

test('bad input: one line on stderr and exit 1', async () => {
  const empty = await file('empty.txt', '');
  const blank = await file('blank.txt', '  \n\t\n');
  const binary = await file('binary.bin', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x01]));
  const text = await file('ok.txt', PROMPT);
  const cases: [string[], RegExp][] = [
    [[empty], /Nothing to inspect: the text is empty\./],
    [[blank], /only whitespace/],
    [[binary], /binary content/],
    [[path.join(dir, 'nope.txt')], /Cannot read .*nope\.txt: no such file/],
    [[text, '--max-characters', '10'], /more than the limit of 10/],
    [[text, '--model', path.join(dir, 'no-such-model')], /Model folder not found: .*no-such-model/],
  ];
  for (const [args, pattern] of cases) {
    const withModel = args.includes('--model') ? args : [...args, '--model', model];
    assertOneLineError(await run(['inspect', ...withModel, '--provider', 'cpu', '--format', 'json']), 1, pattern);
  }
});

test('broken model folders get an error that names the file', async () => {
  const text = await file('ok2.txt', PROMPT);
  const corrupt = (await writeTinyModel(path.join(dir, 'corrupt'))).folder;
  await fs.writeFile(path.join(corrupt, 'onnx', 'model.onnx'), Buffer.from('this is not a protobuf at all, just text'));
  const noConfig = (await writeTinyModel(path.join(dir, 'no-config'))).folder;
  await fs.rm(path.join(noConfig, 'config.json'));
  const noTokenizer = (await writeTinyModel(path.join(dir, 'no-tokenizer'))).folder;
  await fs.rm(path.join(noTokenizer, 'tokenizer.json'));
  const noOnnx = (await writeTinyModel(path.join(dir, 'no-onnx'))).folder;
  await fs.rm(path.join(noOnnx, 'onnx', 'model.onnx'));
  const mismatch = (await writeTinyModel(path.join(dir, 'mismatch'), { graphVocabSize: 100 })).folder;
  const fused = (await writeTinyModel(path.join(dir, 'fused'), { fused: true })).folder;
  const cases: [string, RegExp][] = [
    [corrupt, /corrupt\/onnx\/model\.onnx is not a valid ONNX model/],
    [noConfig, /No model in .*no-config: cannot read model config .*no-config\/config\.json/],
    [noTokenizer, /Cannot read tokenizer .*no-tokenizer\/tokenizer\.json/],
    [noOnnx, /No ONNX model in .*no-onnx: expected onnx\/model\.onnx/],
    [
      mismatch,
      /Tokenizer .*mismatch\/tokenizer\.json \(\d+ tokens\) does not match model .*model\.onnx \(100 embedding rows\)/,
    ],
    [fused, /com\.microsoft\.Attention.*export the model without attention fusion/],
  ];
  for (const [folder, pattern] of cases) {
    assertOneLineError(
      await run(['inspect', text, '--model', folder, '--provider', 'cpu', '--format', 'json']),
      1,
      pattern,
    );
  }
});

test('usage errors exit 2 with the usage line', async () => {
  for (const args of [
    ['inspect'],
    ['inspect', 'a.txt', '--provider', 'tpu'],
    ['inspect', 'a.txt', '--format', 'pdf'],
    ['inspect', 'a.txt', '--bogus'],
    ['frobnicate'],
  ]) {
    const result = await run(args);
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.stderr, /usage: prompt-attention/);
  }
});

test('--verbose logs the stages and timings to stderr, and an error with its stack', async () => {
  const ok = await run(
    ['inspect', '-', '--model', model, '--provider', 'cpu', '--format', 'json', '--verbose'],
    PROMPT,
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.doesNotThrow(() => JSON.parse(ok.stdout), 'stdout stays one JSON document');
  assert.match(ok.stderr, /^prompt-attention \[info\] Tokenizing$/m);
  assert.match(ok.stderr, /^prompt-attention \[info\] Layer 2 of 2$/m);
  assert.match(ok.stderr, /^prompt-attention \[info\] \d+ tokens on cpu in \d+ ms/m);
  const failed = await run(['inspect', path.join(dir, 'missing.txt'), '--model', model, '--verbose']);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /^prompt-attention: Cannot read .*missing\.txt: no such file$/m);
  assert.match(failed.stderr, /\[error\] the inspection failed\n.*EngineError: Cannot read[^\n]*\n\s+at /);
});
