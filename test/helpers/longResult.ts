// An inspection of n tokens as the panel receives it with rows on demand (per-token figures, compact rows of
// k = 0: no row sent in advance), for the long-context browser test and the hover bench (bench/longctxHover.ts);
// with `tiles`, each layer also carries overview tiles (a local head and a sink head, alternating).
import type { InspectionResult, LayerAttention, OverviewTiles } from '../../src/shared/protocol';
import { syntheticResult, syntheticTokens } from './syntheticResult';

/** What the panel receives for `n` tokens with rows on demand: per-token figures, rows of k = 0. */
export function longResult(n: number, layers: number, heads: number, o: { tiles?: boolean } = {}): InspectionResult {
  const words = Array.from({ length: n }, (_, i) => (i % 17 === 16 ? '\n' : ` w${i % 97}`)).join('');
  const base = syntheticResult(words.slice(0, 200), { layers: 1, heads });
  const tokens = syntheticTokens(words);
  const count = Math.min(n, tokens.length);
  const none = (rows: number): LayerAttention['heads'] => ({
    encoding: 'topk-u8',
    rows,
    n: count,
    k: 0,
    weights: new Uint8Array(0),
    rowScale: new Float32Array(0),
    indices: new Uint16Array(0),
  });
  const summaries = base.layers[0].headSummaries;
  const out: LayerAttention[] = Array.from({ length: layers }, (_, layer) => ({
    layer,
    heads: none(heads * count),
    rollout: none(count),
    received: new Float32Array(count).fill(1 / count),
    headSummaries: summaries.map((s) => ({ ...s, layer })),
    ...(o.tiles ? { tiles: syntheticTiles(count, heads) } : {}),
  }));
  return {
    ...base,
    model: { ...base.model, layers, heads, maxTokens: 32768 },
    text: words.slice(0, tokens[count - 1].end),
    tokens: tokens.slice(0, count),
    layers: out,
    summary: { ...base.summary, heads: out.flatMap((l) => l.headSummaries) },
  };
}

/** T = min(32, n) tiles per head whose row bins sum to 1: even heads local (0.6 on the diagonal bin), odd heads
 * sink-like (0.6 on the first key bin), the rest spread over the earlier bins; the head mean last. */
export function syntheticTiles(n: number, heads: number): OverviewTiles {
  const T = Math.min(32, n);
  const cells = T * T;
  const data = new Float32Array((heads + 1) * cells);
  for (let h = 0; h < heads; h++)
    for (let a = 0; a < T; a++) {
      const strong = h % 2 === 0 ? a : 0;
      for (let b = 0; b <= a; b++) {
        const v = a === 0 ? 1 : (b === strong ? 0.6 : 0) + 0.4 / (a + 1);
        data[h * cells + a * T + b] = v;
        data[heads * cells + a * T + b] += v / heads;
      }
    }
  return { size: T, data };
}
