// A synthetic InspectionResult with recognisable head patterns (previous-token, sink, local, broad), for the
// webview's unit tests and the browser test until/unless a real engine result is used.
import type {
  AttentionRows,
  HeadRole,
  HeadSummary,
  InspectionResult,
  LayerAttention,
  TokenInfo,
} from '../../src/shared/protocol';

export function syntheticTokens(text: string): TokenInfo[] {
  const tokens: TokenInfo[] = [{ id: 1, text: '', start: 0, end: 0, special: true }];
  const re = /\n|[ \t]*[A-Za-z0-9_]+|[ \t]+|[^\sA-Za-z0-9_]/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    tokens.push({
      id: 100 + (m[0].charCodeAt(m[0].length - 1) % 50),
      text: m[0],
      start: m.index,
      end: m.index + m[0].length,
    });
  }
  return tokens;
}

const roles: HeadRole[] = ['previous-token', 'sink', 'local', 'broad'];

/** Row weights (sum 1, causal) for one head pattern. */
function patternRow(role: HeadRole, q: number, n: number, seed: number): Float32Array {
  const row = new Float32Array(n);
  if (q === 0) {
    row[0] = 1;
    return row;
  }
  for (let key = 0; key <= q; key++) {
    let w = 0.02 + (((key * 7919 + q * 104729 + seed * 31) % 97) / 97) * 0.05;
    if (role === 'previous-token' && key === q - 1) w += 6;
    if (role === 'sink' && key === 0) w += 8;
    if (role === 'local' && q - key < 4) w += 1.5;
    row[key] = w;
  }
  let sum = 0;
  for (const w of row) sum += w;
  for (let key = 0; key < n; key++) row[key] /= sum;
  return row;
}

function encodeRows(rows: Float32Array[], n: number, topK: number): AttentionRows {
  const dense = n <= 512;
  const k = dense ? n : topK;
  const weights = new Uint8Array(rows.length * k);
  const rowScale = new Float32Array(rows.length);
  const indices = dense ? undefined : new Uint16Array(rows.length * k).fill(0xffff);
  rows.forEach((row, r) => {
    let max = 0;
    for (const w of row) max = Math.max(max, w);
    rowScale[r] = max;
    if (dense) {
      for (let key = 0; key < n; key++) weights[r * k + key] = max > 0 ? Math.round((row[key] / max) * 255) : 0;
      return;
    }
    // The k-th largest weight by a native numeric sort, then keys above it strongest first.
    const sorted = Float32Array.from(row).sort();
    const cut = sorted[Math.max(0, n - k)];
    const order: number[] = [];
    for (let key = 0; key < n && order.length < k; key++) if (row[key] > 0 && row[key] >= cut) order.push(key);
    order.sort((a, b) => row[b] - row[a]);
    order.forEach((key, j) => {
      indices![r * k + j] = key;
      weights[r * k + j] = Math.round((row[key] / max) * 255);
    });
  });
  return { encoding: dense ? 'dense-u8' : 'topk-u8', rows: rows.length, n, k, weights, rowScale, indices };
}

export function syntheticResult(
  text: string,
  options: { layers?: number; heads?: number; topK?: number } = {},
): InspectionResult {
  const layersCount = options.layers ?? 2;
  const headsCount = options.heads ?? 4;
  const tokens = syntheticTokens(text);
  const n = tokens.length;
  const layers: LayerAttention[] = [];
  const heads: HeadSummary[] = [];
  for (let l = 0; l < layersCount; l++) {
    const rows: Float32Array[] = [];
    const mean: Float32Array[] = [];
    const summaries: HeadSummary[] = [];
    for (let h = 0; h < headsCount; h++) {
      const role = roles[(h + l) % roles.length];
      summaries.push({
        layer: l,
        head: h,
        role,
        scores: {
          previousToken: role === 'previous-token' ? 0.9 : 0.1,
          sink: role === 'sink' ? 0.9 : 0.2,
          induction: 0.05,
          local: role === 'local' ? 0.8 : 0.2,
          broad: role === 'broad' ? 0.7 : 0.1,
        },
      });
      for (let q = 0; q < n; q++) rows.push(patternRow(role, q, n, l * 16 + h));
    }
    for (let q = 0; q < n; q++) {
      const m = new Float32Array(n);
      for (let h = 0; h < headsCount; h++) rows[h * n + q].forEach((w, key) => (m[key] += w / headsCount));
      mean.push(m);
    }
    const received = new Float32Array(n);
    for (const m of mean) m.forEach((w, key) => (received[key] += w / n));
    layers.push({
      layer: l,
      heads: encodeRows(rows, n, options.topK ?? 32),
      rollout: encodeRows(mean, n, options.topK ?? 32),
      received,
      headSummaries: summaries,
    });
    heads.push(...summaries);
  }
  const drivers = Array.from({ length: n }, (_, i) => i)
    .filter((i) => i > 0)
    .map((i) => ({
      index: i,
      text: tokens[i].text,
      received: layers.reduce((s, l) => s + l.received[i], 0) / layersCount,
    }))
    .sort((a, b) => b.received - a.received)
    .slice(0, 8);
  return {
    requestId: 1,
    model: {
      id: 'synthetic',
      layers: layersCount,
      heads: headsCount,
      kvHeads: 2,
      maxTokens: 2048,
      provider: 'cpu',
      fallbackReason: 'cuda: provider library not installed',
      card: {
        name: 'pa-mini-llama',
        parameters: 3_400_000,
        trainedOn: 'a synthetic prompt corpus',
        proxyNote: 'A small proxy model, not the production model.',
      },
    },
    text,
    tokens,
    source: { label: 'prompt.md', offset: 0 },
    cost: {
      target: 'llama-3.1-8b',
      targetName: 'Llama 3.1 8B',
      tokens: n * 1.1,
      contextWindow: 131072,
      contextShare: (n * 1.1) / 131072,
      attentionScores: 32 * 32 * (n * 1.1) ** 2,
      attentionScoresCausal: (32 * 32 * (n * 1.1) * (n * 1.1 + 1)) / 2,
      attentionFlops: 4 * 32 * 4096 * (n * 1.1) ** 2,
      linearFlops: 2 * 8e9 * n * 1.1,
      kvCacheBytes: 131072 * n * 1.1,
      price: null,
      warnings: [],
    },
    layers,
    summary: {
      heads,
      drivers,
      longRangePairs: n > 20 ? [{ query: n - 1, key: 3, distance: n - 4, weight: 0.21 }] : [],
      timings: { tokenizeMs: 2, runMs: 40, statsMs: 5, totalMs: 47 },
      notes: [],
    },
  };
}
