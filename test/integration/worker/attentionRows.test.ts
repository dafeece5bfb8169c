// Rows on demand through the real worker thread: after an inspection, the host asks for exact rows (one
// head, or the head mean) and gets them back matched by requestId; they agree with the probabilities the
// graph's Softmax produced (the dense rows of the layer event); a stale inspection gets a one-line refusal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { decodeRow } from '../../../src/engine/analysis/attentionEncoding';
import type { AttentionRowRequest } from '../../../src/shared/attentionRowRequest';
import type { InspectionHeader, LayerAttention } from '../../../src/shared/protocol';
import { InspectorWorker } from '../../../src/worker/inspectorWorker';
import { buildBundle } from '../../helpers/buildBundle';
import { cpuInspectRequest } from '../../helpers/inspectRequest';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../helpers/tinyModel';

let workerScript = '';
let dir = '';
let modelFolder = '';
let worker: InspectorWorker;

before(async () => {
  workerScript = await buildBundle('src/worker/worker.ts', 'worker');
  dir = await makeTempDir();
  modelFolder = (await writeTinyModel(path.join(dir, 'tiny'), { layers: 2, maxPositions: 128 })).folder;
  worker = new InspectorWorker({
    workerScript,
    modelsDir: dir,
    cacheDir: path.join(dir, 'cache'),
    idleTimeoutMs: 60_000,
  });
});

after(async () => {
  worker.dispose();
  await worker.stopped();
  await removeTempDir(dir);
});

async function inspect(
  requestId: number,
  text: string,
): Promise<{ header: InspectionHeader; layers: LayerAttention[] }> {
  let header: InspectionHeader | undefined;
  const layers: LayerAttention[] = [];
  let error = '';
  await worker.inspect(cpuInspectRequest(requestId, modelFolder, text), (event) => {
    if (event.kind === 'header') header = event.header;
    if (event.kind === 'layer') layers.push(event.layer);
    if (event.kind === 'error') error = event.message;
  }).finished;
  assert.equal(error, '');
  assert.ok(header);
  return { header, layers };
}

const row = (inspection: number, requestId: number, layer: number, head: number | null, query: number) =>
  worker.attentionRow({
    type: 'attention-row',
    requestId,
    inspection,
    layer,
    head,
    query,
  } satisfies AttentionRowRequest);

test('exact rows of any layer and head (and the head mean) come back for the last inspection', async () => {
  const { header, layers } = await inspect(1, 'The fox jumps over the dog, and the dog jumps over the fox again.');
  const n = header.tokens.length;
  const heads = header.model.heads;
  let id = 100;
  for (const layer of layers)
    for (const query of [0, Math.floor(n / 2), n - 1]) {
      const mean = new Float64Array(n);
      for (let h = 0; h < heads; h++) {
        const reply = await row(1, ++id, layer.layer, h, query);
        assert.equal(reply.inReplyTo, id);
        assert.equal(reply.error, undefined);
        const weights = reply.weights;
        assert.ok(weights instanceof Float32Array && weights.length === n);
        const expected = decodeRow(layer.heads, h * n + query); // the graph's own Softmax, as dense u8
        const step = layer.heads.rowScale[h * n + query] / 510;
        for (let j = 0; j < n; j++) {
          assert.ok(Math.abs(weights[j] - expected[j]) <= step + 2e-3, `layer ${layer.layer} head ${h} row ${query}`);
          mean[j] += weights[j] / heads;
        }
        for (let j = query + 1; j < n; j++) assert.equal(weights[j], 0, 'causal');
      }
      const reply = await row(1, ++id, layer.layer, null, query);
      assert.ok(reply.weights);
      for (let j = 0; j < n; j++) assert.ok(Math.abs(reply.weights[j] - mean[j]) < 1e-6, 'head mean');
    }
});

test('a row of an inspection that a newer one replaced, or out of range, is refused in one line', async () => {
  await inspect(2, 'First text to inspect.');
  await inspect(3, 'A second text replaces the first one.');
  const stale = await row(2, 500, 0, 0, 1);
  assert.equal(stale.weights, undefined);
  assert.match(stale.error ?? '', /no longer in memory/);
  const outside = await row(3, 501, 0, 99, 1);
  assert.equal(outside.weights, undefined);
  assert.match(outside.error ?? '', /no head 99/);
  assert.ok((await row(3, 502, 1, null, 2)).weights);
});
