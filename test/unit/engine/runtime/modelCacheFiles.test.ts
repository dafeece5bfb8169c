// The warm model cache notices a replaced graph or data file (any dtype's), so a swapped model_q4.onnx is
// never served from the stale session.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ModelCache } from '../../../../src/engine/runtime/modelCache';
import { writeExportFolder } from '../../../helpers/exportStyleFolder';
import { makeTempDir, removeTempDir } from '../../../helpers/tinyModel';

let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(() => removeTempDir(dir));

test('a warm model is reloaded when the file its dtype runs (onnx/model_q4.onnx) is replaced, and per dtype', async () => {
  const folder = path.join(dir, 'q4');
  await writeExportFolder(folder, 'q4-only', 1);
  const cache = new ModelCache({ modelsDir: dir, cacheDir: path.join(dir, 'cache') });
  try {
    const first = await cache.get(folder, 'cpu', () => undefined, 'q4');
    assert.equal(first.file.graph, 'onnx/model_q4.onnx');
    assert.equal(await cache.get(folder, 'cpu', () => undefined, 'q4'), first, 'unchanged: the warm model');
    const other = path.join(dir, 'other');
    await writeExportFolder(other, 'q4-only', 2);
    await fs.copyFile(path.join(other, 'onnx', 'model_q4.onnx'), path.join(folder, 'onnx', 'model_q4.onnx'));
    const reloaded = await cache.get(folder, 'cpu', () => undefined, 'q4');
    assert.notEqual(reloaded, first, 'replaced in place: loaded again');
    await assert.rejects(
      cache.get(folder, 'cpu', () => undefined, 'fp16'),
      /No fp16 model file/,
    );
  } finally {
    await cache.release();
  }
});
