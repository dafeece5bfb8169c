// `prompt-attention models [--json]` over a fake HOME: the JSON array has exactly the documented fields and
// the values discovery found; the table shows one row per model with the value for --model; bad arguments
// are usage errors.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { MODEL_JSON_FIELDS, runModelsCommand } from '../../../src/cli/modelsCommand';
import { addOllamaModel, smallGguf } from '../../helpers/modelStores';

let home: string;

before(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'pa-models-cli-'));
  addOllamaModel(path.join(home, '.ollama', 'models'), 'qwen3', '0.6b', smallGguf('qwen3', 40960, 15));
});
after(() => fs.rmSync(home, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runModelsCommand(
    args,
    { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } },
    { env: {}, home },
  );
  return { code, stdout, stderr };
}

test('--json prints the entries with exactly the documented fields', async () => {
  const { code, stdout } = await run(['--json']);
  assert.equal(code, 0);
  const list = JSON.parse(stdout) as Record<string, unknown>[];
  for (const entry of list) assert.deepEqual(Object.keys(entry), [...MODEL_JSON_FIELDS]);
  assert.deepEqual(MODEL_JSON_FIELDS, [
    'name',
    'source',
    'model',
    'format',
    'architecture',
    'bytes',
    'quant',
    'context',
  ]);
  const ollama = list.find((e) => e.source === 'ollama');
  assert.deepEqual(ollama, {
    name: 'qwen3:0.6b',
    source: 'ollama',
    model: 'ollama:qwen3:0.6b',
    format: 'gguf',
    architecture: 'qwen3',
    bytes: smallGguf('qwen3', 40960, 15).length,
    quant: 'Q4_K_M',
    context: 40960,
  });
  assert.equal(list[0].source, 'embedded');
  assert.ok(list.some((e) => e.source === 'hub'));
});

test('the table has a header and a row per model, with the --model value last', async () => {
  const { code, stdout } = await run([]);
  assert.equal(code, 0);
  const lines = stdout.trimEnd().split('\n');
  assert.match(lines[0], /^NAME\s+SOURCE\s+FORMAT\s+ARCH\s+SIZE\s+QUANT\s+CONTEXT\s+MODEL$/);
  const row = lines.find((l) => l.startsWith('qwen3:0.6b'));
  assert.match(row ?? '', /^qwen3:0\.6b\s+ollama\s+gguf\s+qwen3\s+\S+ \S?B\s+Q4_K_M\s+40,960\s+ollama:qwen3:0\.6b$/);
  assert.equal(lines.length, (JSON.parse((await run(['--json'])).stdout) as unknown[]).length + 1);
});

test('an unknown argument is a usage error', async () => {
  const { code, stderr } = await run(['--yaml']);
  assert.equal(code, 2);
  assert.match(stderr, /unknown argument "--yaml"/);
});
