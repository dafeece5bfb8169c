// Rollout rows on demand across the worker boundary (the ROLLOUT_ROWS request, worker/rowAnswer.ts): the rows the
// worker computes from its kept Q and K equal the rollout rows the inspection's graph computed (a short input,
// where both exist), progress comes per layer before the reply, a newer request supersedes an unfinished one,
// and a stale inspection is refused in one line.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { decodeRow } from '../../../src/engine/analysis/attentionEncoding';
import type { InspectionHeader, LayerAttention } from '../../../src/shared/protocol';
import { RequestFailed } from '../../../src/shared/requestReply';
import type { RolloutRowsProgress, RolloutRowsRequest } from '../../../src/shared/rolloutRowsRequest';
import { InspectorWorker } from '../../../src/worker/inspectorWorker';
import { buildBundle } from '../../helpers/buildBundle';
import { cpuInspectRequest } from '../../helpers/inspectRequest';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../helpers/tinyModel';

let workerScript = '';
let dir = '';
let modelFolder = '';

before(async () => {
  workerScript = await buildBundle('src/worker/worker.ts', 'worker');
  dir = await makeTempDir();
  modelFolder = (await writeTinyModel(path.join(dir, 'tiny'), { layers: 3, maxPositions: 64 })).folder;
});

after(() => removeTempDir(dir));

test('rollout rows from the worker equal the graph rollout; progress per layer; newer requests supersede', async () => {
  const worker = new InspectorWorker({
    workerScript,
    modelsDir: dir,
    cacheDir: path.join(dir, 'cache'),
    idleTimeoutMs: 60_000,
  });
  try {
    let header: InspectionHeader | undefined;
    const layers: LayerAttention[] = [];
    await worker.inspect(
      cpuInspectRequest(7, modelFolder, 'The fox jumps over the dog. The fox jumps again, and the dog sleeps.'),
      (event) => {
        if (event.kind === 'header') header = event.header;
        if (event.kind === 'layer') layers.push(event.layer);
      },
    ).finished;
    assert.ok(header);
    const n = header.tokens.length;
    const ask = (requestId: number, queries: number[], inspection = 7): RolloutRowsRequest => ({
      type: 'rollout-rows',
      requestId,
      inspection,
      layer: 2,
      queries,
    });

    const progress: RolloutRowsProgress[] = [];
    const queries = [n - 1, 3, Math.floor(n / 2)];
    const reply = await worker.rolloutRows(ask(1, queries), (p) => progress.push(p)).reply;
    assert.equal(reply.error, undefined);
    assert.deepEqual(
      progress.map((p) => `${p.done}/${p.of}`),
      ['1/3', '2/3', '3/3'],
    );
    assert.ok(progress.every((p) => p.inReplyTo === 1 && p.inspection === 7 && p.layer === 2));
    assert.equal(reply.rows?.length, 3);
    reply.rows?.forEach((row, i) => {
      const q = queries[i];
      const graph = decodeRow(layers[2].rollout, q);
      const step = layers[2].rollout.rowScale[q] / 255;
      for (let j = 0; j < n; j++)
        assert.ok(Math.abs(row[j] - graph[j]) <= step / 2 + 2e-3, `row ${q} key ${j}: ${row[j]} vs ${graph[j]}`);
    });

    // Two at once: the first is cancelled (its reply rejects as cancelled), the second answers.
    const first = worker.rolloutRows(ask(2, [n - 1]), () => undefined);
    first.cancel();
    const second = worker.rolloutRows(ask(3, [n - 2]), () => undefined);
    await assert.rejects(first.reply, (e: unknown) => e instanceof RequestFailed && e.cancelled);
    const answered = await second.reply;
    assert.equal(answered.rows?.length, 1);

    const stale = await worker.rolloutRows(ask(4, [0], 6), () => undefined).reply;
    assert.match(stale.error ?? '', /no longer in memory/);
    const outside = await worker.rolloutRows(ask(5, [n]), () => undefined).reply;
    assert.match(outside.error ?? '', /no token/);
  } finally {
    worker.dispose();
    await worker.stopped();
  }
});
