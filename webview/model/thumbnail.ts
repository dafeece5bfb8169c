// Downsamples one head's attention (n × n) into size × size cells by max-pooling, for the head grid; a layer that
// carries no rows draws its overview tiles instead (overviewTiles.ts: T × T means, T ≤ 32).
import type { AttentionRows, LayerAttention } from '../../src/shared/protocol';
import { forEachInRow } from './attentionRows';
import { hasNoRows, headTiles } from './overviewTiles';

export function headThumbnail(rows: AttentionRows, head: number, size: number): Float32Array {
  const n = rows.n;
  const cells = Math.min(size, n);
  const out = new Float32Array(cells * cells);
  for (let q = 0; q < n; q++) {
    const cy = Math.floor((q * cells) / n);
    const base = cy * cells;
    forEachInRow(rows, head * n + q, (key, w) => {
      const at = base + Math.floor((key * cells) / n);
      if (w > out[at]) out[at] = w;
    });
  }
  return out;
}

/** The layer's thumbnail of one head: from its rows when it has them, else from its tiles (a square grid). */
export function layerHeadThumbnail(layer: LayerAttention, head: number, size: number): Float32Array {
  if (hasNoRows(layer) && layer.tiles) return headTiles(layer.tiles, head);
  return headThumbnail(layer.heads, head, size);
}
