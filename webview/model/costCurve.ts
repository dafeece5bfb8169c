// The cost-against-length chart's data: attention cost grows with n², dense layers with n, so the chart
// shows where the quadratic term takes over, the current prompt, and the context window.
import type { CostSummary } from '../../src/shared/protocol';

export interface CostPoint {
  readonly n: number;
  /** Attention cost at length n, in the summary's unit (FLOPs, or scores, or relative to the prompt). */
  readonly attention: number;
  readonly linear: number | null;
}

export interface CostCurve {
  readonly unit: 'flops' | 'scores' | 'relative';
  readonly maxN: number;
  readonly points: readonly CostPoint[];
  readonly current: CostPoint;
  readonly contextWindow: number;
  /** Length where attention FLOPs exceed the dense-layer FLOPs, when both are known and it is within range. */
  readonly crossover: number | null;
}

export function costCurve(cost: CostSummary, samples = 64): CostCurve {
  const n0 = Math.max(1, cost.tokens);
  const unit = cost.attentionFlops !== null ? 'flops' : cost.attentionScores !== null ? 'scores' : 'relative';
  const at0 = cost.attentionFlops ?? cost.attentionScores ?? 1;
  const linear0 = unit === 'flops' ? cost.linearFlops : null;
  const maxN = Math.max(cost.contextWindow || 0, Math.ceil(n0 * 1.25), 16);
  const attentionAt = (n: number): number => at0 * (n / n0) ** 2;
  const linearAt = (n: number): number | null => (linear0 === null ? null : linear0 * (n / n0));
  const points: CostPoint[] = [];
  for (let i = 0; i <= samples; i++) {
    const n = (maxN * i) / samples;
    points.push({ n, attention: attentionAt(n), linear: linearAt(n) });
  }
  // a·(n/n0)² = l·(n/n0)  ⇒  n = n0 · l / a
  const crossover = linear0 !== null && at0 > 0 ? (n0 * linear0) / at0 : null;
  return {
    unit,
    maxN,
    points,
    current: { n: n0, attention: attentionAt(n0), linear: linearAt(n0) },
    contextWindow: cost.contextWindow,
    crossover: crossover !== null && crossover <= maxN ? crossover : null,
  };
}
