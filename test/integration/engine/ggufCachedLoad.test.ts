// A later load of a GGUF file from the graph cache: it does not parse the file again (the entry's source.json
// holds the hyperparameters and the tokenizer) and its CPU session comes from the optimized graph saved on
// first use. Both loads' attention and next-token probabilities equal the float64 pass on the file's weights
// and each other, and tokenize alike. A damaged saved graph is deleted, the session comes from model.onnx
// (saving the graph again); a damaged source.json makes the next load parse the file and write it again.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { readGgufFile } from '../../../src/engine/runtime/ggufFile';
import { LoadedModel } from '../../../src/engine/runtime/loadedModel';
import { buildGgufFixture } from '../../helpers/ggufFixtures';
import type { GgufFixture } from '../../helpers/ggufFixtures';
import { str, writeGguf } from '../../helpers/ggufWriter';
import { ggufReferenceForward, softmaxRow } from '../../helpers/ggufReference';

const IDS = [1, 261, 300, 45, 301, 302, 77, 303, 304, 300, 261, 305];
const TEMPLATE = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}";
let dir = '';
let fixture: GgufFixture;
let file = '';
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gguf-cached-'));
  fixture = buildGgufFixture({ arch: 'qwen2', type: 'Q4_K', embedType: 'Q8_0', tied: true, addBos: true });
  file = path.join(dir, 'tiny.gguf');
  await fs.writeFile(
    file,
    writeGguf({ ...fixture.metadata, 'tokenizer.chat_template': str(TEMPLATE) }, fixture.tensors),
  );
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

interface Load {
  readonly model: LoadedModel;
  /** The graphs sessions were created from (file name) with their optimization level. */
  readonly sessions: string[];
}

let parses = 0;
async function load(): Promise<Load> {
  const sessions: string[] = [];
  const model = await LoadedModel.loadGguf(file, {
    id: 'tiny',
    cacheDir: path.join(dir, 'cache'),
    provider: 'cpu',
    readGguf: (p) => {
      parses++;
      return readGgufFile(p);
    },
    providerOptions: {
      create: (p, options) => {
        sessions.push(`${path.basename(p)} ${options.graphOptimizationLevel}`);
        return ort.InferenceSession.create(p, options);
      },
    },
  });
  return { model, sessions };
}

async function entry(): Promise<{ folder: string; files: string[] }> {
  const [key] = await fs.readdir(path.join(dir, 'cache', 'gguf'));
  const folder = path.join(dir, 'cache', 'gguf', key);
  return { folder, files: (await fs.readdir(folder)).sort() };
}

interface Run {
  readonly next: Float64Array;
  readonly attention: Float32Array[];
}

/** Runs the model and checks it against the float64 pass: attention within 1e-4, next within 2e-3. */
async function runChecked(model: LoadedModel): Promise<Run> {
  const run = await model.runTensors(IDS, { probabilities: true });
  const reference = ggufReferenceForward(fixture, IDS);
  const V = fixture.shape.vocab;
  const next = softmaxRow(run.lastLogits as Float32Array, 0, V);
  const exact = softmaxRow(reference.logits, IDS.length - 1, V);
  let worstNext = 0;
  for (let i = 0; i < V; i++) worstNext = Math.max(worstNext, Math.abs(next[i] - exact[i]));
  assert.ok(worstNext <= 2e-3, `next off the float64 pass by ${worstNext}`);
  const attention = run.layers.map((l) => l.data as Float32Array);
  let worstAttention = 0;
  attention.forEach((ours, l) => {
    assert.equal(ours.length, reference.probs[l].length);
    for (let i = 0; i < ours.length; i++)
      worstAttention = Math.max(worstAttention, Math.abs(ours[i] - reference.probs[l][i]));
  });
  assert.ok(worstAttention <= 1e-4, `attention off the float64 pass by ${worstAttention}`);
  return { next, attention };
}

function assertSameRun(a: Run, b: Run): void {
  let worst = 0;
  for (let i = 0; i < a.next.length; i++) worst = Math.max(worst, Math.abs(a.next[i] - b.next[i]));
  a.attention.forEach((layer, l) => {
    for (let i = 0; i < layer.length; i++) worst = Math.max(worst, Math.abs(layer[i] - b.attention[l][i]));
  });
  assert.ok(worst <= 1e-6, `the cached load's results differ from the first load's by ${worst}`);
}

const TEXT = 'alpha <s> beta\n\n  gamma';

test('a later load parses nothing and runs the saved optimized graph, with the first load results', async () => {
  const first = await load();
  assert.equal(parses, 1);
  assert.deepEqual(first.sessions, ['model.onnx all']);
  assert.deepEqual(first.model.savedGraph, { graph: 'model' });
  const { files } = await entry();
  assert.ok(files.includes('source.json'), files.join(', '));
  assert.equal(files.filter((f) => /^optimized-[0-9a-f]{16}\.onnx$/.test(f)).length, 1, files.join(', '));
  assert.ok(!files.some((f) => f.includes('.tmp-')), files.join(', '));
  const firstRun = await runChecked(first.model);
  const firstTokens = first.model.tokenizer.tokenize(TEXT);
  await first.model.dispose();

  const second = await load();
  assert.equal(parses, 1, 'the cached load does not parse the GGUF file');
  assert.equal(second.sessions.length, 1);
  assert.match(second.sessions[0], /^optimized-[0-9a-f]{16}\.onnx disabled$/);
  assert.deepEqual(second.model.savedGraph, { graph: 'saved' });
  assert.deepEqual(
    { origin: second.model.origin, config: second.model.config, dtype: second.model.dtype, bytes: second.model.file },
    { origin: first.model.origin, config: first.model.config, dtype: first.model.dtype, bytes: first.model.file },
  );
  assert.deepEqual(second.model.tokenizer.tokenize(TEXT), firstTokens);
  assert.equal(second.model.tokenizer.vocabSize, first.model.tokenizer.vocabSize);
  assert.equal(second.model.tokenizer.chatTemplate?.template, TEMPLATE);
  assertSameRun(firstRun, await runChecked(second.model));
  await second.model.dispose();
});

test('a damaged saved graph is deleted, model.onnx runs and the graph is saved again', async () => {
  const before = await load();
  const firstRun = await runChecked(before.model);
  await before.model.dispose();
  const { folder, files } = await entry();
  const saved = path.join(folder, files.find((f) => f.startsWith('optimized-')) as string);
  const size = (await fs.stat(saved)).size;
  await fs.writeFile(saved, (await fs.readFile(saved)).subarray(0, size >> 1));

  const damaged = await load();
  assert.equal(damaged.model.savedGraph?.graph, 'model');
  assert.match(damaged.model.savedGraph?.problem ?? '', /^the saved optimized graph optimized-\w+\.onnx did not load/);
  assert.equal(damaged.sessions.length, 2);
  assert.match(damaged.sessions[0], /^optimized-\w+\.onnx disabled$/);
  assert.equal(damaged.sessions[1], 'model.onnx all');
  assertSameRun(firstRun, await runChecked(damaged.model));
  await damaged.model.dispose();
  assert.equal((await fs.stat(saved)).size, size, 'the graph is saved whole again');

  const again = await load();
  assert.deepEqual(again.model.savedGraph, { graph: 'saved' });
  assertSameRun(firstRun, await runChecked(again.model));
  await again.model.dispose();
});

test('a damaged source.json makes the next load parse the file and write it again', async () => {
  const { folder } = await entry();
  const record = path.join(folder, 'source.json');
  await fs.writeFile(record, (await fs.readFile(record, 'utf8')).slice(0, 100));
  const parsed = parses;
  const reread = await load();
  assert.equal(parses, parsed + 1, 'the file is parsed again');
  const firstRun = await runChecked(reread.model);
  await reread.model.dispose();
  const cached = await load();
  assert.equal(parses, parsed + 1, 'the record was written again');
  assert.equal(cached.model.tokenizer.chatTemplate?.template, TEMPLATE);
  assertSameRun(firstRun, await runChecked(cached.model));
  await cached.model.dispose();
});
