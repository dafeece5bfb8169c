// Damaged and hostile GGUF files through the model cache: each is refused with one line that says what is
// wrong, leaves nothing in the graph cache, and the next load of a good file works.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { EngineError } from '../../../src/engine/engineError';
import { ModelCache } from '../../../src/engine/runtime/modelCache';
import type { GgufFixture } from '../../helpers/ggufFixtures';
import { buildGgufFixture, tinyVocabulary } from '../../helpers/ggufFixtures';
import type { TypedValue } from '../../helpers/ggufWriter';
import { f32s, i32s, str, strings, u32, writeGguf } from '../../helpers/ggufWriter';

let dir = '';
let good: GgufFixture;
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gguf-bad-'));
  good = buildGgufFixture({ arch: 'qwen2', type: 'Q8_0' });
  await fs.writeFile(path.join(dir, 'good.gguf'), good.bytes);
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** The byte position of a tensor info's type field (its offset field follows it). */
function typeFieldOf(bytes: Uint8Array, name: string, dims: number): number {
  const needle = new TextEncoder().encode(name);
  for (let i = 0; i < bytes.length - needle.length; i++) {
    if (needle.every((b, j) => bytes[i + j] === b) && bytes[i + needle.length] === dims)
      return i + needle.length + 4 + 8 * dims;
  }
  throw new Error(`no tensor info ${name}`);
}

function withMetadata(changes: Record<string, TypedValue>): Uint8Array {
  return writeGguf({ ...good.metadata, ...changes }, good.tensors);
}

function patched(edit: (bytes: Uint8Array, view: DataView) => void): Uint8Array {
  const bytes = good.bytes.slice();
  edit(bytes, new DataView(bytes.buffer));
  return bytes;
}

const CASES: [string, () => Uint8Array, RegExp][] = [
  ['truncated in its tensor data', () => good.bytes.slice(0, good.bytes.length >> 1), /past the end of .*truncated/],
  [
    'truncated in its header',
    () => good.bytes.slice(0, 200),
    /truncated: its header runs past the end|not a readable GGUF file/,
  ],
  [
    'a tensor offset past the end',
    () =>
      patched((bytes, view) => view.setBigUint64(typeFieldOf(bytes, 'blk.1.ffn_down.weight', 2) + 4, 1n << 40n, true)),
    /blk\.1\.ffn_down\.weight lies past the end/,
  ],
  ['block_count 10⁹', () => withMetadata({ 'qwen2.block_count': u32(1e9) }), /qwen2\.block_count is 1000000000/],
  ['a head count of 0', () => withMetadata({ 'qwen2.attention.head_count': u32(0) }), /head_count is 0/],
  [
    'an unknown quantization type',
    () => patched((bytes, view) => view.setUint32(typeFieldOf(bytes, 'blk.0.attn_q.weight', 2), 99, true)),
    /blk\.0\.attn_q\.weight is unknown type 99/,
  ],
  [
    'an IQ type',
    () => patched((bytes, view) => view.setUint32(typeFieldOf(bytes, 'blk.0.attn_k.weight', 2), 16, true)),
    /blk\.0\.attn_k\.weight is IQ2_XXS, a weight type the inspector cannot read/,
  ],
  [
    'a vocabulary larger than the embedding',
    () => {
      const v = tinyVocabulary(400);
      return withMetadata({
        'tokenizer.ggml.tokens': strings(v.tokens),
        'tokenizer.ggml.scores': f32s(v.scores),
        'tokenizer.ggml.token_type': i32s(v.types),
      });
    },
    /vocabulary has 400 tokens but token_embd\.weight has 320 rows/,
  ],
  ['another architecture', () => withMetadata({ 'general.architecture': str('mamba') }), /"mamba" model/],
];

for (const [label, make, expected] of CASES) {
  test(`a GGUF file with ${label} is refused in one line; the next load works`, async () => {
    const file = path.join(dir, 'bad.gguf');
    await fs.writeFile(file, make());
    const cacheDir = path.join(dir, 'cache');
    const cache = new ModelCache({ modelsDir: path.join(dir, 'models'), cacheDir });
    await assert.rejects(
      cache.get(file, 'cpu', () => undefined),
      (error: unknown) => {
        assert.ok(error instanceof EngineError, String(error));
        assert.match(error.message, expected);
        assert.ok(!error.message.includes('\n') && error.message.length < 400, error.message);
        return true;
      },
    );
    const entries = await fs.readdir(path.join(cacheDir, 'gguf')).catch(() => [] as string[]);
    const goodEntries = entries.filter((e) => !e.includes('.tmp-'));
    assert.equal(entries.length, goodEntries.length, 'no temporary folder is left');
    const model = await cache.get(path.join(dir, 'good.gguf'), 'cpu', () => undefined);
    const run = await model.runTensors([1, 300, 301, 302], { probabilities: false });
    assert.equal(run.layers.length, good.shape.layers);
    await cache.release();
    assert.ok((await fs.readdir(path.join(cacheDir, 'gguf'))).length <= 1, 'only the good file has an entry');
  });
}
