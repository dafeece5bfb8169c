// The overview tiles (tilesGraph.ts) on every path that computes them: the tapped probabilities of a Softmax
// export (embedded-style) with no rows sent, the row-block Loop above the block threshold (a padded last block, a
// partial last bin, n < 32), and the head-mean Loop at 600 tokens with no per-head rows. Each equals a float64
// recomputation from the reference decoder's probabilities. Where rows are sent (dense up to 512 tokens, per-head
// rows or the probabilities asked for) there are none: the panel draws from the rows.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ALL_ROWS, NO_HEAD_ROWS, PROBABILITY_ROWS_INPUT } from '../../../src/engine/graph/attentionStatsGraph';
import type { BlockPlan } from '../../../src/engine/graph/siteStatsGraph';
import { prepareTappedModel } from '../../../src/engine/graph/tapCache';
import { prefillFeeds } from '../../../src/engine/runtime/prefillFeeds';
import type { ExportStyle } from '../../helpers/exportStyleGraph';
import { buildExportGraph } from '../../helpers/exportStyleGraph';
import { randomDecoder, referenceForward } from '../../helpers/referenceDecoder';
import { referenceTiles } from '../../helpers/referenceTiles';
import { makeTempDir, removeTempDir } from '../../helpers/tinyModel';

const SHAPE = { vocabSize: 64, hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 96, maxPositions: 1024 };
const HD = SHAPE.hidden / SHAPE.heads;
const tokens = (n: number): number[] => Array.from({ length: n }, (_, i) => (i * 37 + 11) % 64);

let dir = '';
before(async () => {
  dir = await makeTempDir();
});
after(() => removeTempDir(dir));

interface Case {
  readonly label: string;
  readonly style: ExportStyle;
  /** Recompute from Q and K (the GroupQueryAttention sites) rather than read the tapped probabilities. */
  readonly sites: boolean;
  readonly n: number;
  readonly blocks?: BlockPlan;
  readonly rows: number;
}

const CASES: Case[] = [
  {
    label: 'Softmax export, tapped probabilities, 600 tokens, no per-head rows',
    style: 'torch',
    sites: false,
    n: 600,
    rows: NO_HEAD_ROWS,
  },
  {
    label: 'GQA, row blocks of 4 from 8 tokens, 45 tokens',
    style: 'gqa',
    sites: true,
    n: 45,
    blocks: { from: 8, rows: 4 },
    rows: 0,
  },
  {
    label: 'GQA, row blocks of 4 from 8 tokens, 21 tokens (T = n)',
    style: 'gqa',
    sites: true,
    n: 21,
    blocks: { from: 8, rows: 4 },
    rows: 0,
  },
  {
    label: 'GQA, head mean from row blocks of 128, 600 tokens, no per-head rows',
    style: 'gqa',
    sites: true,
    n: 600,
    blocks: { from: 2048, rows: 128 },
    rows: NO_HEAD_ROWS,
  },
];

/** One run of the tapped graph on `ids`, with PROBABILITY_ROWS_INPUT = `rows`. */
async function runTapped(
  tapped: { modelPath: string; inputs: Parameters<typeof prefillFeeds>[1] },
  ids: number[],
  rows: number,
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(tapped.modelPath);
  try {
    const feeds = prefillFeeds(ort, tapped.inputs, ids, {
      kvHeads: SHAPE.kvHeads,
      headDim: HD,
      metadata: session.inputMetadata,
    });
    feeds[PROBABILITY_ROWS_INPUT] = new ort.Tensor('int64', BigInt64Array.of(BigInt(rows)), [1]);
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

// Where rows are sent (dense up to 512 tokens, or per-head rows asked for) the panel draws from them: no tiles.
const ROWS_SENT: Case[] = [
  { label: 'Softmax export, 45 tokens (dense rows)', style: 'torch', sites: false, n: 45, rows: 0 },
  {
    label: 'GQA, whole P recomputed, 45 tokens (probabilities asked for)',
    style: 'gqa',
    sites: true,
    n: 45,
    rows: ALL_ROWS,
  },
  { label: 'Softmax export, 600 tokens, per-head rows asked for', style: 'torch', sites: false, n: 600, rows: 0 },
];

for (const c of ROWS_SENT)
  test(`${c.label}: no tiles where rows are sent`, async () => {
    const folder = path.join(dir, `rows-${c.label.replace(/\W+/g, '-')}`);
    await fs.mkdir(folder, { recursive: true });
    await fs.writeFile(path.join(folder, 'model.onnx'), buildExportGraph(randomDecoder(SHAPE, 31), { style: c.style }));
    const tapped = await prepareTappedModel(path.join(folder, 'model.onnx'), SHAPE.layers, path.join(folder, 'cache'), {
      ...(c.sites ? { attention: { heads: SHAPE.heads, kvHeads: SHAPE.kvHeads, headDim: HD } } : {}),
    });
    const out = await runTapped(tapped, tokens(c.n), c.rows);
    tapped.stats.layers.forEach((o, l) => {
      assert.equal((out[o.tiles].data as Float32Array).length, 0, `layer ${l}: no tiles`);
      assert.ok((out[o.heads.weights].data as Uint8Array).length > 0, `layer ${l}: rows instead`);
    });
  });

for (const c of CASES) {
  test(`${c.label}: the overview tiles equal the float64 reference`, async () => {
    const ids = tokens(c.n);
    const weights = randomDecoder(SHAPE, 31);
    const folder = path.join(dir, c.label.replace(/\W+/g, '-'));
    await fs.mkdir(folder, { recursive: true });
    await fs.writeFile(path.join(folder, 'model.onnx'), buildExportGraph(weights, { style: c.style }));
    const tapped = await prepareTappedModel(path.join(folder, 'model.onnx'), SHAPE.layers, path.join(folder, 'cache'), {
      ...(c.sites ? { attention: { heads: SHAPE.heads, kvHeads: SHAPE.kvHeads, headDim: HD } } : {}),
      ...(c.blocks ? { blocks: c.blocks } : {}),
    });
    assert.equal(tapped.sites !== null && tapped.sites !== undefined, c.sites, 'the path under test');
    const reference = referenceForward(weights, ids).probs;
    const out = await runTapped(tapped, ids, c.rows);
    const T = Math.min(32, c.n);
    tapped.stats.layers.forEach((o, l) => {
      const tiles = out[o.tiles];
      assert.deepEqual(tiles.dims, [1, SHAPE.heads + 1, T, T]);
      const got = tiles.data as Float32Array;
      const want = referenceTiles(reference[l], SHAPE.heads, c.n);
      assert.equal(want.size, T);
      for (let i = 0; i < want.data.length; i++)
        assert.ok(
          Math.abs(got[i] - want.data[i]) < 1e-5,
          `layer ${l} tile ${i} (head ${Math.floor(i / (T * T))}): ${got[i]} vs ${want.data[i]}`,
        );
      // Each non-empty row bin is a mean of softmax rows: it sums to 1.
      const w = Math.ceil(c.n / T);
      for (let a = 0; a * w < c.n; a++) {
        let sum = 0;
        for (let b = 0; b < T; b++) sum += got[SHAPE.heads * T * T + a * T + b];
        assert.ok(Math.abs(sum - 1) < 1e-5, `layer ${l} head-mean row bin ${a} sums to ${sum}`);
      }
    });
  });
}
