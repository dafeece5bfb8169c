// Downsamples one head's attention (n × n) into size × size cells by max-pooling, for the head grid.
import type { AttentionRows } from '../../src/shared/protocol';
import { forEachInRow } from './attentionRows';

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
