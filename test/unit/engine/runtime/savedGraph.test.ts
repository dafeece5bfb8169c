// The saved optimized graph's life cycle with a fake session factory (what onnxruntime does with the files is
// in test/integration/engine/ggufCachedLoad.test.ts): the first session saves it through a temporary name and
// drops graphs of other environments, a later one loads it unoptimized, one that fails to load is deleted
// for model.onnx, and a failed creation or save leaves no temporary file.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type * as ort from 'onnxruntime-node';
import type { SavedGraphUse, SessionFactory } from '../../../../src/engine/runtime/savedGraph';
import { savedGraphName, sessionWithSavedGraph } from '../../../../src/engine/runtime/savedGraph';

const session = { release: async () => undefined } as unknown as ort.InferenceSession;
const NAME = savedGraphName('1.30.0', 'cpu');
let dir = '';
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'saved-graph-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function folder(name: string): Promise<string> {
  const d = path.join(dir, name);
  await fs.mkdir(d);
  await fs.writeFile(path.join(d, 'model.onnx'), 'model');
  return d;
}

/** A factory that writes the optimized file onnxruntime would, and fails on paths in `failing`. */
function factory(calls: string[], failing: readonly string[] = [], writes = true): SessionFactory {
  return async (p, options) => {
    calls.push(`${path.basename(p)} ${options.graphOptimizationLevel}${options.optimizedModelFilePath ? ' save' : ''}`);
    if (failing.includes(path.basename(p))) throw new Error(`cannot load ${path.basename(p)}`);
    if (options.optimizedModelFilePath && writes) await fs.writeFile(options.optimizedModelFilePath, 'optimized');
    return session;
  };
}

async function open(d: string, create: SessionFactory): Promise<SavedGraphUse | undefined> {
  let use: SavedGraphUse | undefined;
  await sessionWithSavedGraph(path.join(d, 'model.onnx'), NAME, { graphOptimizationLevel: 'all' }, create, (u) => {
    use = u;
  });
  return use;
}

test('the name changes with the onnxruntime version and the provider', () => {
  assert.match(NAME, /^optimized-[0-9a-f]{16}\.onnx$/);
  assert.notEqual(savedGraphName('1.31.0', 'cpu'), NAME);
  assert.notEqual(savedGraphName('1.30.0', 'webgpu'), NAME);
  assert.equal(savedGraphName('1.30.0', 'cpu'), NAME);
});

test('the first session saves the graph, drops other environments', async () => {
  const d = await folder('first');
  const other = savedGraphName('1.29.0', 'cpu');
  await fs.writeFile(path.join(d, other), 'old');
  const calls: string[] = [];
  assert.deepEqual(await open(d, factory(calls)), { graph: 'model' });
  assert.deepEqual(calls, ['model.onnx all save']);
  assert.deepEqual((await fs.readdir(d)).sort(), ['model.onnx', NAME].sort());
  assert.equal(await fs.readFile(path.join(d, NAME), 'utf8'), 'optimized');

  const later: string[] = [];
  assert.deepEqual(await open(d, factory(later)), { graph: 'saved' });
  assert.deepEqual(later, [`${NAME} disabled`]);
});

test('a saved graph that fails to load is deleted and model.onnx saves it again', async () => {
  const d = await folder('broken');
  await fs.writeFile(path.join(d, NAME), 'garbage');
  const calls: string[] = [];
  let failed = false;
  const create: SessionFactory = async (p, options) => {
    // The first attempt (the saved graph) fails; model.onnx then writes a good one.
    if (!failed && path.basename(p) === NAME) {
      failed = true;
      calls.push(`${NAME} failed`);
      throw new Error('Protobuf parsing failed.');
    }
    return factory(calls)(p, options);
  };
  const use = await open(d, create);
  assert.equal(use?.graph, 'model');
  assert.match(use?.problem ?? '', /did not load \(Protobuf parsing failed\.\); it is written again/);
  assert.deepEqual(calls, [`${NAME} failed`, 'model.onnx all save']);
  assert.equal(await fs.readFile(path.join(d, NAME), 'utf8'), 'optimized');
});

test('a failed session leaves no file; a graph that was not written is reported, the session kept', async () => {
  const d = await folder('failing');
  const calls: string[] = [];
  await assert.rejects(open(d, factory(calls, ['model.onnx'])), /cannot load model\.onnx/);
  assert.deepEqual(calls, ['model.onnx all save', 'model.onnx all'], 'tried once more without saving');
  assert.deepEqual(await fs.readdir(d), ['model.onnx']);

  // onnxruntime fails the session when it cannot write the file (a full disk): the session comes without it.
  const full: string[] = [];
  const noSpace: SessionFactory = async (p, options) => {
    if (options.optimizedModelFilePath) {
      await fs.writeFile(options.optimizedModelFilePath, 'opt');
      throw new Error('ENOSPC: no space left on device');
    }
    return factory(full)(p, options);
  };
  assert.deepEqual(await open(d, noSpace), {
    graph: 'model',
    problem: 'the optimized graph could not be saved (ENOSPC: no space left on device)',
  });
  assert.deepEqual(full, ['model.onnx all']);
  assert.deepEqual(await fs.readdir(d), ['model.onnx']);

  const use = await open(d, factory([], [], false));
  assert.equal(use?.graph, 'model');
  assert.match(use?.problem ?? '', /^the optimized graph could not be saved \(ENOENT/);
  assert.deepEqual(await fs.readdir(d), ['model.onnx']);
});
