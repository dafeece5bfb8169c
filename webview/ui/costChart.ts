// The cost summary for the target model and a small SVG chart: attention cost against length (n²), dense
// layers (n) when known, the current prompt marked and the context window as a line.
import type { CostSummary } from '../../src/shared/protocol';
import { costCurve } from '../model/costCurve';
import { formatBytes, formatCount, formatPrice, formatShare, formatSi, formatWindow } from '../../src/shared/format';
import { el, svg, svgText } from './dom';

const W = 300;
const H = 150;
const PAD = { left: 8, right: 10, top: 12, bottom: 22 };

export function renderCost(cost: CostSummary): HTMLElement {
  const rows: [string, string][] = [
    [
      'Tokens',
      `${cost.exact === false ? '≈' : ''}${formatCount(cost.tokens)} for ${cost.targetName}, of ${formatCount(cost.contextWindow)} (${formatShare(cost.contextShare)})`,
    ],
    [
      'Attention scores',
      cost.attentionScores === null
        ? 'architecture not public'
        : `${formatSi(cost.attentionScores)} (causal ${formatSi(cost.attentionScoresCausal ?? 0)})`,
    ],
    ['Attention FLOPs', cost.attentionFlops === null ? '—' : formatSi(cost.attentionFlops, 'FLOP')],
    ['Dense FLOPs', cost.linearFlops === null ? '—' : formatSi(cost.linearFlops, 'FLOP')],
    ['KV cache', cost.kvCacheBytes === null ? '—' : formatBytes(cost.kvCacheBytes)],
  ];
  if (cost.price !== null) rows.push(['Input price', formatPrice(cost.price)]);
  const table = el('dl', { class: 'cost-figures' });
  for (const [k, v] of rows) table.append(el('dt', {}, [k]), el('dd', {}, [v]));
  const warnings = cost.warnings.map((w) => el('p', { class: 'warning' }, [w]));
  return el('div', { class: 'cost' }, [el('h3', {}, [`Cost on ${cost.targetName}`]), table, chart(cost), ...warnings]);
}

function chart(cost: CostSummary): SVGElement {
  const c = costCurve(cost);
  const maxY = Math.max(...c.points.map((p) => Math.max(p.attention, p.linear ?? 0))) || 1;
  const x = (n: number): number => PAD.left + (n / c.maxN) * (W - PAD.left - PAD.right);
  const y = (v: number): number => H - PAD.bottom - (v / maxY) * (H - PAD.top - PAD.bottom);
  const path = (values: number[]): string =>
    values.map((v, i) => `${i ? 'L' : 'M'}${x(c.points[i].n).toFixed(1)},${y(v).toFixed(1)}`).join('');
  const parts: SVGElement[] = [
    svg('line', { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: 'axis' }),
    svg('path', { d: path(c.points.map((p) => p.attention)), class: 'curve-attention' }),
  ];
  if (c.points[0].linear !== null)
    parts.push(svg('path', { d: path(c.points.map((p) => p.linear ?? 0)), class: 'curve-linear' }));
  if (c.contextWindow > 0 && c.contextWindow <= c.maxN) {
    const cx = x(c.contextWindow);
    parts.push(svg('line', { x1: cx, y1: PAD.top - 4, x2: cx, y2: H - PAD.bottom, class: 'context-line' }));
    parts.push(
      svgText(`context ${formatWindow(c.contextWindow)}`, { x: cx - 3, y: PAD.top + 4, class: 'chart-label end' }),
    );
  }
  if (c.crossover !== null) {
    parts.push(
      svg('circle', {
        cx: x(c.crossover),
        cy: y(c.points[0].linear === null ? 0 : (c.crossover / Math.max(1, cost.tokens)) * (cost.linearFlops ?? 0)),
        r: 2.5,
        class: 'crossover',
      }),
    );
  }
  const px = x(c.current.n);
  const py = y(c.current.attention);
  parts.push(svg('line', { x1: px, y1: py, x2: px, y2: H - PAD.bottom, class: 'current-drop' }));
  parts.push(svg('circle', { cx: px, cy: py, r: 4, class: 'current' }));
  parts.push(
    svgText(`this prompt · ${formatCount(c.current.n)}`, {
      x: Math.min(px + 6, W - 100),
      y: Math.max(py - 8, PAD.top + 14),
      class: 'chart-label',
    }),
  );
  parts.push(svgText('0', { x: PAD.left, y: H - 6, class: 'chart-label' }));
  parts.push(svgText(`${formatWindow(c.maxN)} tokens`, { x: W - PAD.right, y: H - 6, class: 'chart-label end' }));
  const legend =
    c.unit === 'relative'
      ? 'attention cost ∝ n² (architecture not public)'
      : c.points[0].linear !== null
        ? 'attention n² vs dense layers n'
        : 'attention cost ∝ n²';
  parts.push(svgText(legend, { x: W / 2, y: H - 6, class: 'chart-label middle' }));
  const root = svg(
    'svg',
    {
      viewBox: `0 0 ${W} ${H}`,
      class: 'cost-chart',
      role: 'img',
      'aria-label': `Attention cost grows with the square of the length; this prompt has ${Math.round(c.current.n)} tokens, the context window is ${c.contextWindow}.`,
    },
    parts,
  );
  return root;
}
