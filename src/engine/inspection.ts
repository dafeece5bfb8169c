// One inspection on a loaded model: validate, tokenize, window, run, then post-process and emit layer
// by layer (header first, summary last). Used by the worker; no I/O of its own.
import type { InspectionSummary, LayerAttention, LongRangePair, ModelSummary, TokenInfo } from '../shared/protocol';
import type { EngineHeader, InspectProgress, InspectRequest } from './inspectApi';
import { chooseTopK, DENSE_LIMIT, encodeRows, isCausal } from './analysis/attentionEncoding';
import { accumulateLongRange, longRangePairs, topDrivers } from './analysis/drivers';
import { inductionProbe, inductionScores, summarizeHeads } from './analysis/headRoles';
import { validateText } from './runtime/inputValidation';
import type { LoadedModel } from './runtime/loadedModel';

export interface InspectionOutput {
  onProgress(progress: InspectProgress): void;
  onStart(header: EngineHeader): void;
  onLayer(layer: LayerAttention): void;
  onDone(summary: InspectionSummary): void;
  /** Optional: each layer's float32 probabilities [heads, n, n] before compaction (CLI --dense). */
  onRawLayer?(layer: number, data: Float32Array, heads: number, n: number): void;
}

export class InspectionCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

const inductionByModel = new WeakMap<LoadedModel, Float32Array[]>();

/** float32 attention the worker may hold at once (layers × heads × n² × 4 bytes). */
export const ATTENTION_MEMORY_BYTES = 3 * 1024 ** 3;

/** The most tokens whose full attention fits ATTENTION_MEMORY_BYTES (2,048 is ~0.5 GiB for the default model). */
export function memoryTokenLimit(layers: number, heads: number): number {
  return Math.floor(Math.sqrt(ATTENTION_MEMORY_BYTES / (layers * heads * 4)));
}
const PROBE_LENGTH = 48;

/** Induction scores per layer and head, measured once per loaded model on a repeated random sequence. */
export async function modelInduction(model: LoadedModel): Promise<Float32Array[]> {
  const cached = inductionByModel.get(model);
  if (cached) return cached;
  const length = Math.max(4, Math.min(PROBE_LENGTH, Math.floor((model.config.maxPositions - 1) / 2)));
  const bos = model.tokenizer.tokenize('x').tokens[0]?.special ? model.tokenizer.tokenize('x').ids[0] : null;
  const vocab = model.tokenizer.vocabSize;
  const plain = (random: () => number): number => {
    for (;;) {
      const id = Math.floor(random() * vocab);
      if (!model.tokenizer.isSpecial(id)) return id;
    }
  };
  const probe = inductionProbe(bos, plain, length);
  const layers = await model.runAttention(probe.ids);
  const scores = layers.map((l) => inductionScores(l.data ?? new Float32Array(l.heads * l.n * l.n), l.heads, l.n, probe.offset, probe.length));
  inductionByModel.set(model, scores);
  return scores;
}

export function modelSummary(model: LoadedModel): ModelSummary {
  return {
    id: model.id,
    layers: model.config.layers,
    heads: model.config.heads,
    kvHeads: model.config.kvHeads,
    maxTokens: model.config.maxPositions,
    provider: model.provider,
    ...(model.fallbackReason ? { fallbackReason: model.fallbackReason } : {}),
    ...(model.card ? { card: model.card } : {}),
  };
}

/** Keeps at most `limit` tokens; 'end' keeps a leading special token (BOS, the sink) plus the last ones. */
function applyWindow(ids: number[], tokens: TokenInfo[], limit: number, window: 'start' | 'end'): { ids: number[]; tokens: TokenInfo[] } {
  if (tokens.length <= limit) return { ids, tokens };
  if (window === 'start') return { ids: ids.slice(0, limit), tokens: tokens.slice(0, limit) };
  const lead = tokens[0]?.special ? 1 : 0;
  const from = tokens.length - (limit - lead);
  return { ids: [...ids.slice(0, lead), ...ids.slice(from)], tokens: [...tokens.slice(0, lead), ...tokens.slice(from)] };
}

export async function runInspection(model: LoadedModel, request: InspectRequest, out: InspectionOutput, isCancelled: () => boolean): Promise<void> {
  const started = performance.now();
  const check = (): void => {
    if (isCancelled()) throw new InspectionCancelled();
  };
  validateText(request.text, request.maxCharacters);
  out.onProgress({ stage: 'tokenize', message: 'Tokenizing' });
  const tokenized = model.tokenizer.tokenize(request.text);
  const memoryLimit = memoryTokenLimit(model.config.layers, model.config.heads);
  const limit = Math.min(model.config.maxPositions, memoryLimit, request.maxTokens > 0 ? request.maxTokens : Number.POSITIVE_INFINITY);
  const { ids, tokens } = applyWindow(tokenized.ids, tokenized.tokens, limit, request.window);
  const notes: string[] = [];
  if (tokens.length < tokenized.tokens.length) {
    const why = limit === memoryLimit && limit < model.config.maxPositions && (request.maxTokens === 0 || request.maxTokens > limit) ? ' (attention memory limit for this model)' : '';
    notes.push(`Inspected the ${request.window === 'end' ? 'last' : 'first'} ${tokens.length} of ${tokenized.tokens.length} tokens${why}.`);
  }
  const tokenizedAt = performance.now();
  check();
  out.onStart({ requestId: request.requestId, model: modelSummary(model), text: request.text, tokens });

  const induction = await modelInduction(model);
  check();
  out.onProgress({ stage: 'run', message: `Running ${model.id} on ${tokens.length} tokens` });
  const ranAt = performance.now();
  const layers = await model.runAttention(ids, { encoding: ids.length <= DENSE_LIMIT ? 'dense' : 'topk', probabilities: out.onRawLayer !== undefined });
  const runDone = performance.now();
  check();

  const n = tokens.length;
  const topK = chooseTopK(n, layers.length, layers[0]?.heads ?? model.config.heads);
  const longRange = n > 32 ? new Float32Array(n * n) : null;
  const firstLongRangeLayer = Math.floor(layers.length / 2);
  const heads: InspectionSummary['heads'][number][] = [];
  const received: Float32Array[] = [];
  for (let l = 0; l < layers.length; l++) {
    const layer = layers[l];
    const headSummaries = summarizeHeads(l, layer.scoreInputs, induction[l] ?? null);
    heads.push(...headSummaries);
    received.push(layer.received);
    if (longRange && l >= firstLongRangeLayer) accumulateLongRange(longRange, layer.headMean, n);
    if (layer.data) out.onRawLayer?.(l, layer.data, layer.heads, n);
    // The rollout of causal attention is causal: its first row holds only key 0.
    const causal = isCausal(layer.rollout, n, n);
    out.onLayer({
      layer: l,
      // Own copies: the buffers are transferred to the host.
      heads: layer.quantized && layer.rowMax
        ? { encoding: 'dense-u8', rows: layer.heads * n, n, k: n, weights: layer.quantized.slice(), rowScale: layer.rowMax.slice() }
        : layer.topk
          ? { encoding: 'topk-u8', rows: layer.heads * n, n, k: layer.topk.k, weights: layer.topk.weights.slice(), rowScale: layer.topk.scale.slice(), indices: layer.topk.indices.slice() }
          : encodeRows(layer.data ?? new Float32Array(layer.heads * n * n), layer.heads * n, n, topK, causal),
      rollout: encodeRows(layer.rollout, n, n, topK, causal),
      received: layer.received.slice(), // own buffer: it is transferred to the host
      headSummaries,
    });
    out.onProgress({ stage: 'layers', message: `Layer ${l + 1} of ${layers.length}`, fraction: (l + 1) / layers.length });
    check();
  }
  const pairs: LongRangePair[] = longRange ? longRangePairs(longRange, layers.length - firstLongRangeLayer, tokens) : [];
  const finished = performance.now();
  out.onDone({
    heads,
    drivers: topDrivers(received, tokens),
    longRangePairs: pairs,
    timings: { tokenizeMs: tokenizedAt - started, runMs: runDone - ranAt, statsMs: finished - runDone, totalMs: finished - started },
    notes,
  });
}
