// Drawing from overview tiles (overviewTiles.ts, thumbnail.ts, longMatrix.ts) when a layer carries no rows,
// checked against a dense causal attention matrix: the tiles are computed from it in float64 by their definition
// (test/helpers/referenceTiles.ts), and what the views read back equals the matrix's block means. Layers sent
// without rows below the long threshold (the panel asks for rows on demand) are read as a long inspection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerAttention } from '../../../src/shared/protocol';
import { DENSE_UP_TO, LongMatrix } from '../../../webview/model/longMatrix';
import { MatrixCache } from '../../../webview/model/matrixCache';
import { DEFAULT_CONTROLS } from '../../../webview/model/viewState';
import { selectedTiles, tileDensity } from '../../../webview/model/overviewTiles';
import { headThumbnail, layerHeadThumbnail } from '../../../webview/model/thumbnail';
import { referenceTiles } from '../../helpers/referenceTiles';
import { longResult } from '../../helpers/longResult';
import { syntheticResult } from '../../helpers/syntheticResult';

const HEADS = 2;

/** Causal softmax-like rows per head: [heads, n, n], each row summing to 1 over keys ≤ q. */
function causalProbs(n: number, seed: number): Float64Array {
  let s = seed;
  const random = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) ** 3;
  const p = new Float64Array(HEADS * n * n);
  for (let h = 0; h < HEADS; h++)
    for (let q = 0; q < n; q++) {
      let sum = 0;
      for (let k = 0; k <= q; k++) sum += p[h * n * n + q * n + k] = random() + (h === 1 && k === 0 ? 2 : 0);
      for (let k = 0; k <= q; k++) p[h * n * n + q * n + k] /= sum;
    }
  return p;
}

/** Mean over the causal cells of each w × w block of head h (h = HEADS: the head mean). */
function blockMean(p: Float64Array, n: number, h: number, w: number, a: number, b: number): number {
  let sum = 0;
  let count = 0;
  for (let q = a * w; q < Math.min(n, (a + 1) * w); q++)
    for (let k = b * w; k <= Math.min(q, (b + 1) * w - 1); k++) {
      let v = 0;
      if (h < HEADS) v = p[h * n * n + q * n + k];
      else for (let j = 0; j < HEADS; j++) v += p[j * n * n + q * n + k] / HEADS;
      sum += v;
      count++;
    }
  return count > 0 ? sum / count : 0;
}

function layerWithoutRows(n: number, p: Float64Array, layer = 0): LayerAttention {
  const none = (rows: number): LayerAttention['heads'] => ({
    encoding: 'topk-u8',
    rows,
    n,
    k: 0,
    weights: new Uint8Array(0),
    rowScale: new Float32Array(0),
    indices: new Uint16Array(0),
  });
  const tiles = referenceTiles(p, HEADS, n);
  return {
    layer,
    heads: none(HEADS * n),
    rollout: none(n),
    received: new Float32Array(n).fill(1 / n),
    headSummaries: [],
    tiles: { size: tiles.size, data: Float32Array.from(tiles.data) },
  };
}

test('the tile density of a block is the mean of the matrix over its causal cells (a partial last bin)', () => {
  const n = 70; // T = 32, w = 3: bins 0..23, the last holding one token, 24..31 empty
  const p = causalProbs(n, 7);
  const tiles = layerWithoutRows(n, p).tiles;
  assert.ok(tiles);
  const w = Math.ceil(n / tiles.size);
  assert.equal(w, 3);
  for (let h = 0; h <= HEADS; h++) {
    const one = { size: tiles.size, data: tiles.data.subarray(h * 32 * 32, (h + 1) * 32 * 32) };
    for (let a = 0; a * w < n; a++)
      for (let b = 0; b <= a; b++) {
        const want = blockMean(p, n, h, w, a, b);
        const got = tileDensity(one, n, a * w, b * w);
        assert.ok(Math.abs(got - want) < 1e-6, `head ${h} block ${a}, ${b}: ${got} vs ${want}`);
      }
  }
});

test('without rows, the long overview reads the tiles of the selected head; rollout keeps the estimate', () => {
  const n = 70;
  const layers = [layerWithoutRows(n, causalProbs(n, 3), 0), layerWithoutRows(n, causalProbs(n, 5), 1)];
  const p1 = causalProbs(n, 5);
  const long = new LongMatrix(layers, n, HEADS, { layer: 1, head: 1, mode: 'attention', hideSink: false });
  const overview = long.overview();
  assert.equal(overview.estimated, false);
  assert.equal(overview.tileWidth, 3);
  assert.equal(overview.bin, 1);
  for (let q = 0; q < n; q++)
    for (let k = 0; k <= q; k++) {
      const want = blockMean(p1, n, 1, 3, Math.floor(q / 3), Math.floor(k / 3));
      const got = overview.cells[q * overview.size + k];
      assert.ok(Math.abs(got - want) < 1e-6, `cell ${q}, ${k}: ${got} vs ${want}`);
    }
  // Over all layers and the head mean: the mean of the layers' head-mean tiles.
  const both = selectedTiles(layers, HEADS, 'mean');
  assert.ok(both);
  const mean = (t: LayerAttention): Float32Array => (t.tiles as { data: Float32Array }).data.subarray(2 * 1024);
  for (let i = 0; i < 1024; i++)
    assert.ok(Math.abs(both.data[i] - (mean(layers[0])[i] + mean(layers[1])[i]) / 2) < 1e-7, `mean tile ${i}`);
  const rollout = new LongMatrix(layers, n, HEADS, { layer: 'all', head: 'mean', mode: 'rollout', hideSink: false });
  assert.equal(rollout.overview().estimated, true);
  assert.equal(rollout.overview().tileWidth, undefined);
});

test('a thumbnail draws the rows when the layer has them, else its tiles', () => {
  const result = syntheticResult('one two three four five six seven eight nine ten', { layers: 1, heads: HEADS });
  const withRows = result.layers[0];
  const n = withRows.heads.n;
  const tiled = { ...withRows, tiles: layerWithoutRows(n, causalProbs(n, 9)).tiles };
  assert.deepEqual(layerHeadThumbnail(tiled, 1, 44), headThumbnail(withRows.heads, 1, 44));
  const p = causalProbs(n, 9);
  const bare = layerWithoutRows(n, p);
  const thumb = layerHeadThumbnail(bare, 1, 44);
  assert.equal(thumb.length, n * n, 'T = n tiles below 32 tokens');
  for (let q = 0; q < n; q++)
    for (let k = 0; k < n; k++) assert.ok(Math.abs(thumb[q * n + k] - p[n * n + q * n + k]) < 1e-6, `${q}, ${k}`);
});

test('900 tokens sent without rows (rows on demand): no n × n matrix, the overview from the tiles', () => {
  const result = longResult(900, 2, 2, { tiles: true });
  const { layers, summary: _s, source: _src, cost: _c, ...header } = result;
  const n = header.tokens.length;
  assert.ok(n > 512 && n <= DENSE_UP_TO, `${n} tokens: below the long threshold`);
  const cache = new MatrixCache();
  cache.clear(n);
  const state = { phase: 'done' as const, requestId: 1, header, layers, stale: false };
  assert.ok(cache.update(state, DEFAULT_CONTROLS));
  assert.equal(cache.matrix, null, 'no n × n matrix of zeros');
  assert.ok(cache.long);
  const overview = cache.overview;
  assert.ok(overview);
  assert.equal(overview.tileWidth, Math.ceil(n / 32));
  assert.ok(
    overview.cells.some((v) => v > 0),
    'the overview is not blank',
  );
  // With rows (a short synthetic result), the dense matrix as before.
  const short = syntheticResult('one two three four five six', { layers: 1, heads: 2 });
  const { layers: shortLayers, summary: _s2, source: _src2, cost: _c2, ...shortHeader } = short;
  const dense = new MatrixCache();
  dense.clear(shortHeader.tokens.length);
  dense.update(
    { phase: 'done', requestId: 2, header: shortHeader, layers: shortLayers, stale: false },
    DEFAULT_CONTROLS,
  );
  assert.ok(dense.matrix);
  assert.equal(dense.long, null);
});
