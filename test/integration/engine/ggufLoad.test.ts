// Loading a `.gguf` path through the model cache, as the worker and the CLI do: the first load builds the
// graph once with "prepare" progress up to 100 %, a later load reuses the cached entry (no prepare), a file
// changed on disk is built again, and the loaded model's next-token probabilities at the last position equal
// the float64 pass on the file's weights.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { ProgressUpdate } from '../../../src/shared/protocol';
import { decodeModel } from '../../../src/engine/graph/onnxGraph';
import { ModelCache } from '../../../src/engine/runtime/modelCache';
import { buildGgufFixture } from '../../helpers/ggufFixtures';
import { ggufReferenceForward, softmaxRow } from '../../helpers/ggufReference';

let dir = '';
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gguf-load-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function load(file: string): Promise<{ progress: ProgressUpdate[]; cache: ModelCache }> {
  const cache = new ModelCache({ modelsDir: path.join(dir, 'models'), cacheDir: path.join(dir, 'cache') });
  const progress: ProgressUpdate[] = [];
  await cache.get(file, 'cpu', (p) => progress.push(p));
  return { progress, cache };
}

test('a .gguf path loads, builds once with progress, and its next-token probabilities match float64', async () => {
  const fixture = buildGgufFixture({ arch: 'llama', type: 'Q4_K', addBos: true });
  const file = path.join(dir, 'tiny.gguf');
  await fs.writeFile(file, fixture.bytes);

  const first = await load(file);
  const prepares = first.progress.filter((p) => p.stage === 'prepare');
  assert.ok(prepares.length >= 2, 'the build reports its progress');
  assert.equal(prepares.at(-1)?.fraction, 1);
  const model = await first.cache.get(file, 'cpu', () => undefined);
  assert.equal(model.origin.format, 'gguf');
  assert.equal(model.dtype, 'Q4_K');
  const ids = [1, 300, 301, 302, 303, 45, 46];
  const run = await model.runTensors(ids, { probabilities: false });
  assert.equal(run.layers.length, 2);
  const logits = run.lastLogits;
  assert.ok(logits);
  const ours = softmaxRow(logits, 0, fixture.shape.vocab);
  const exact = softmaxRow(ggufReferenceForward(fixture, ids).logits, ids.length - 1, fixture.shape.vocab);
  let worst = 0;
  for (let i = 0; i < exact.length; i++) worst = Math.max(worst, Math.abs(ours[i] - exact[i]));
  assert.ok(worst <= 2e-3, `next off the float64 pass by ${worst}`);
  await first.cache.release();

  const second = await load(file);
  assert.equal(second.progress.filter((p) => p.stage === 'prepare').length, 0, 'the cached graph is reused');
  await second.cache.release();

  const changed = buildGgufFixture({ arch: 'llama', type: 'Q4_K', addBos: true, seed: 9 });
  await fs.writeFile(file, changed.bytes);
  const third = await load(file);
  assert.ok(
    third.progress.some((p) => p.stage === 'prepare'),
    'a changed file is built again',
  );
  await third.cache.release();
  const entries = await fs.readdir(path.join(dir, 'cache', 'gguf'));
  assert.ok(
    entries.every((e) => !e.includes('.tmp-')),
    'no temporary folder is left',
  );
});

test('a large 8-bit LM head runs in row chunks (views of the same bytes) with the same next-token distribution', async () => {
  const shape = { hidden: 256, layers: 1, heads: 4, kvHeads: 2, intermediate: 512, vocab: 33000, context: 512 };
  const fixture = buildGgufFixture({ arch: 'qwen2', type: 'Q8_0', shape });
  const file = path.join(dir, 'big-head.gguf');
  await fs.writeFile(file, fixture.bytes);
  const { cache } = await load(file);
  const model = await cache.get(file, 'cpu', () => undefined);
  const ids = [5, 300, 301, 302, 303, 32999];
  const run = await model.runTensors(ids, { probabilities: false });
  await cache.release();
  const ours = softmaxRow(run.lastLogits as Float32Array, 0, shape.vocab);
  const exact = softmaxRow(ggufReferenceForward(fixture, ids).logits, ids.length - 1, shape.vocab);
  let worst = 0;
  for (let i = 0; i < exact.length; i++) worst = Math.max(worst, Math.abs(ours[i] - exact[i]));
  assert.ok(worst <= 2e-3, `next off the float64 pass by ${worst}`);
  const entries = await fs.readdir(path.join(dir, 'cache', 'gguf'));
  const graphs = await Promise.all(
    entries.map((e) => fs.readFile(path.join(dir, 'cache', 'gguf', e, 'model.onnx')).then((b) => decodeModel(b))),
  );
  const chunks = graphs.map(
    (g) =>
      (g.graph?.node ?? []).filter(
        (n) => n.opType === 'MatMulNBits' && /^output\.weight_\d+\.rows/.test(n.input?.[1] ?? ''),
      ).length,
  );
  assert.ok(Math.max(...chunks) >= 2, `the head runs in chunks (${chunks.join(', ')})`);
});

for (const type of ['Q8_0', 'Q5_1'] as const)
  test(`a tied ${type} embedding gathers its rows from the LM head's row parts, ids on both sides of a part boundary`, async () => {
    // 256 × 33,000 weights: two parts (rows 0–32,767 and 32,768–32,999), each a view that both the lookup and
    // the head read, so the table is mapped once.
    const shape = { hidden: 256, layers: 1, heads: 4, kvHeads: 2, intermediate: 512, vocab: 33000, context: 512 };
    const fixture = buildGgufFixture({ arch: 'qwen2', type, shape, tied: true });
    const file = path.join(dir, `tied-${type}.gguf`);
    await fs.writeFile(file, fixture.bytes);
    const cache = new ModelCache({ modelsDir: path.join(dir, 'models'), cacheDir: path.join(dir, `cache-${type}`) });
    const model = await cache.get(file, 'cpu', () => undefined);
    for (const ids of [
      [32768, 5, 32767, 32999, 300],
      [7, 32900, 0, 32767, 32768],
    ]) {
      const run = await model.runTensors(ids, { probabilities: false });
      const ours = softmaxRow(run.lastLogits as Float32Array, 0, shape.vocab);
      const exact = softmaxRow(ggufReferenceForward(fixture, ids).logits, ids.length - 1, shape.vocab);
      let worst = 0;
      for (let i = 0; i < exact.length; i++) worst = Math.max(worst, Math.abs(ours[i] - exact[i]));
      assert.ok(worst <= 2e-3, `next after ${ids.join(' ')} off the float64 pass by ${worst}`);
    }
    await cache.release();
    const [entry] = await fs.readdir(path.join(dir, `cache-${type}`, 'gguf'));
    const graph = decodeModel(await fs.readFile(path.join(dir, `cache-${type}`, 'gguf', entry, 'model.onnx'))).graph;
    const tables = (graph?.initializer ?? []).filter((t) => t.name?.startsWith('token_embd.weight'));
    assert.ok(
      tables.length > 0 && tables.every((t) => t.name?.includes('.rows')),
      `only row parts of the table: ${tables.map((t) => t.name).join(', ')}`,
    );
    const reads = (graph?.node ?? []).filter((n) => n.opType === 'Gather' && n.input?.[0]?.startsWith('token_embd'));
    assert.ok(reads.length >= 4, 'each part gathers its codes and scales');
  });
