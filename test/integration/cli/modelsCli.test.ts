// The built CLI, run as a user runs it with a fake HOME: `models --json` lists the Ollama model found there
// with the value for --model, and `inspect --model ollama:<missing>` fails with one line naming what the
// store holds.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { buildBundle } from '../../helpers/buildBundle';
import { addOllamaModel, smallGguf } from '../../helpers/modelStores';
import { runCli } from '../../helpers/runCli';
import { tinyModelWithVocab, vocabMetadata } from '../../helpers/vocabGguf';

let cli: string;
let home: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  cli = await buildBundle('src/cli/cli.ts', 'cli-models');
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'pa-models-home-'));
  addOllamaModel(path.join(home, '.ollama', 'models'), 'qwen3', '0.6b', smallGguf('qwen3', 40960, 15));
  addOllamaModel(
    path.join(home, '.ollama', 'models'),
    'tiny-qwen3',
    'latest',
    tinyModelWithVocab(vocabMetadata('qwen3')),
  );
  env = { PATH: process.env.PATH, HOME: home, XDG_CACHE_HOME: path.join(home, '.cache') };
});
after(() => fs.rmSync(home, { recursive: true, force: true }));

test('models --json lists the Ollama model with the value for --model', async () => {
  const run = await runCli(cli, ['models', '--json'], { cwd: home, env });
  assert.equal(run.code, 0, run.stderr);
  const list = JSON.parse(run.stdout) as { source: string; model: string; quant: string | null }[];
  const ollama = list.filter((m) => m.source === 'ollama');
  assert.deepEqual(
    ollama.map((m) => [m.model, m.quant]),
    [
      ['ollama:qwen3:0.6b', 'Q4_K_M'],
      ['ollama:tiny-qwen3:latest', 'F32'],
    ],
  );
});

test('inspect --model with a missing Ollama model is one line naming what is there', async () => {
  const run = await runCli(cli, ['inspect', '-', '--model', 'ollama:llama3.2'], { cwd: home, env, stdin: 'Hello.' });
  assert.equal(run.code, 1);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0], /Ollama model llama3\.2:latest not found in .*there: qwen3:0\.6b, tiny-qwen3:latest\./);
});

test('inspect --model ollama:<name> runs the model from the store, its tokens from the GGUF vocabulary', async () => {
  const text = 'Hello <|im_start|>world';
  const run = await runCli(cli, ['inspect', '-', '--model', 'ollama:tiny-qwen3', '--format', 'json'], {
    cwd: home,
    env,
    stdin: text,
  });
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { model: { id: string }; tokens: { text: string }[] };
  assert.equal(result.model.id, 'ollama:tiny-qwen3');
  // Qwen's pre-tokenizer keeps the space apart from the special token's text, which is one token.
  assert.deepEqual(
    result.tokens.map((t) => t.text),
    ['Hello', ' ', '<|im_start|>', 'world'],
  );
});
