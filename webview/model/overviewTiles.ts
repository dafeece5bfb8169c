// Reading a layer's overview tiles (LayerAttention.tiles, src/engine/graph/tilesGraph.ts): T × T grids per head
// plus the head mean, tile (a, b) = mean over row bin a's queries of the weight on key bin b's keys, bins of
// w = ⌈n / T⌉ tokens. What the head-grid thumbnails and the long matrix overview draw when a layer carries no
// rows (the payload holds per-token figures and tiles; rows come on request).
import type { LayerAttention, OverviewTiles } from '../../src/shared/protocol';
import type { HeadChoice } from './aggregate';

/** Whether the layer carries no per-head rows (k = 0: rows on demand, or a blocked layer). */
export function hasNoRows(layer: LayerAttention): boolean {
  return layer.heads.k === 0 || layer.heads.weights.length === 0;
}

/** One head's T × T grid (its own copy); `head` = heads gives the head mean. */
export function headTiles(tiles: OverviewTiles, head: number): Float32Array {
  const cells = tiles.size * tiles.size;
  return tiles.data.slice(head * cells, (head + 1) * cells);
}

/** The grid of the selected head over these layers (their mean), or null when one of them has no tiles. */
export function selectedTiles(
  layers: readonly LayerAttention[],
  heads: number,
  head: HeadChoice,
): OverviewTiles | null {
  const first = layers[0]?.tiles;
  if (!first || layers.some((l) => !l.tiles || l.tiles.size !== first.size)) return null;
  const cells = first.size * first.size;
  const data = new Float32Array(cells);
  for (const layer of layers) {
    const t = (layer.tiles as OverviewTiles).data;
    for (let i = 0; i < cells; i++) {
      let v: number;
      if (head === 'mean') v = t[heads * cells + i];
      else if (head === 'max') {
        v = 0;
        for (let h = 0; h < heads; h++) v = Math.max(v, t[h * cells + i]);
      } else v = t[head * cells + i];
      data[i] += v / layers.length;
    }
  }
  return { size: first.size, data };
}

/**
 * The mean weight per causal cell around query q and key k (k ≤ q), read from the tiles of n tokens: below the
 * diagonal tile(a, b) / |bin b|; on it tile(a, a) over the (|bin a| + 1) / 2 causal keys a query has there on average.
 */
export function tileDensity(tiles: OverviewTiles, n: number, q: number, k: number): number {
  const T = tiles.size;
  const w = Math.ceil(n / T);
  const a = Math.floor(q / w);
  const b = Math.floor(k / w);
  if (b > a) return 0;
  const count = (bin: number): number => Math.max(1, Math.min(w, n - bin * w));
  const tile = tiles.data[a * T + b];
  return b < a ? tile / count(b) : tile / ((count(a) + 1) / 2);
}
