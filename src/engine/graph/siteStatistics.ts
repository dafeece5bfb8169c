// The attention statistics of a graph the engine built itself (GGUF and safetensors decoders, ggufDecoder.ts),
// from its AttentionSites: the same path as an ONNX export whose Q and K were found (tapCache.ts). Each
// layer's statistics go after its attention (the anchor) and are recomputed from the site's Q and K
// (siteStatsGraph.ts): whole up to BLOCKS.from tokens, in blocks of query rows above, never every layer's
// probabilities at once. Q (fp16) and K (fp32, kv heads only) leave the graph, so the worker computes exact
// rows of any layer and head on demand (exactRows.ts).
import type { AttentionSite } from './attentionSite';
import type { StatsOutputs } from './attentionStatsGraph';
import { appendAttentionStats } from './attentionStatsGraph';
import type { ModelProto } from './onnxGraph';
import { castSites, exposeSites } from './onnxSites';
import type { BlockPlan } from './siteStatsGraph';
import { BLOCKS } from './siteStatsGraph';

export interface SiteStatistics {
  readonly stats: StatsOutputs;
  /** The sites as graph outputs (Q cast to fp16), what rows on demand read after the run. */
  readonly sites: AttentionSite[];
}

export function appendSiteStatistics(
  model: ModelProto,
  sites: readonly AttentionSite[],
  anchors: readonly string[],
  blocks: BlockPlan = BLOCKS,
): SiteStatistics {
  if (sites.length !== anchors.length) throw new Error('one anchor per attention site');
  // As for ONNX exports: Q and K kept in fp16 (the row kernel casts K in its graph).
  const kept = castSites(model, sites, 'float16', 'float16');
  const stats = appendAttentionStats(model, anchors, sites, blocks, kept);
  return { stats, sites: exposeSites(model, sites, 'float16', 'float16', kept) };
}
