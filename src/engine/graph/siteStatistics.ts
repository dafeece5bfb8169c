// The attention statistics of a graph the engine built itself, from its AttentionSites: for now the
// probabilities softmax(scale·QKᵀ + causal/window mask) that the decoder computes from each site's Q and K
// (ggufDecoder.ts) feed the existing in-graph statistics (attentionStatsGraph.ts). This one function is the
// seam: statistics computed in row blocks straight from the sites replace it without touching the builders.
import type { AttentionSite } from './attentionSite';
import type { StatsOutputs } from './attentionStatsGraph';
import { appendAttentionStats } from './attentionStatsGraph';
import type { ModelProto } from './onnxGraph';

export function appendSiteStatistics(
  model: ModelProto,
  sites: readonly AttentionSite[],
  probabilities: readonly string[],
): StatsOutputs {
  if (sites.length !== probabilities.length) throw new Error('one probability tensor per attention site');
  return appendAttentionStats(model, probabilities);
}
