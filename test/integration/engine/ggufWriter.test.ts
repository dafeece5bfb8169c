// The GGUF writer (test/helpers/ggufWriter.ts) against its two readers: @huggingface/gguf parses every
// tensor info back (name, dims, type, aligned offset), and llama.cpp loads a tiny decoder of every weight
// type and evaluates it to a distribution over the vocabulary.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { gguf } from '@huggingface/gguf';
import { GgmlType } from '../../helpers/ggufEncoders';
import type { GgmlTypeName } from '../../helpers/ggufEncoders';
import { buildGgufFixture } from '../../helpers/ggufFixtures';
import { llamaCppNextProbabilities } from '../../helpers/llamaCpp';

const TYPES: GgmlTypeName[] = [
  'F32',
  'F16',
  'BF16',
  'Q8_0',
  'Q4_0',
  'Q4_1',
  'Q5_0',
  'Q5_1',
  'Q2_K',
  'Q3_K',
  'Q4_K',
  'Q5_K',
  'Q6_K',
];
let dir = '';
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gguf-writer-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

for (const type of TYPES) {
  test(`a tiny llama in ${type} parses back and runs in llama.cpp`, async () => {
    const fixture = buildGgufFixture({ arch: 'llama', type, addBos: true });
    const file = path.join(dir, `llama-${type}.gguf`);
    await fs.writeFile(file, fixture.bytes);
    const parsed = await gguf(file, { allowLocalFile: true });
    const q = parsed.tensorInfos.find((t) => t.name === 'blk.1.attn_q.weight');
    assert.equal(q?.dtype, GgmlType[type]);
    assert.deepEqual(q?.shape, [256n, 256n]);
    for (const info of parsed.tensorInfos) assert.equal(Number(info.offset) % 32, 0, info.name);
    assert.equal(Number(parsed.tensorDataOffset) % 32, 0);
    const ids = [1, 300, 301, 302, 303];
    const probs = await llamaCppNextProbabilities(file, ids, fixture.shape.vocab);
    assert.equal(probs.length, ids.length);
    for (const p of probs) assert.ok(Math.max(...p) < 0.999, 'a random decoder gives a spread distribution');
  });
}
