// One inspection on a loaded model: validate, tokenize, window, run, then post-process and emit layer
// by layer (header first, summary last). Used by the worker; no I/O of its own.
import * as os from 'node:os';
import type {
  AttentionRows,
  ExecutionProviderSetting,
  InspectionSummary,
  LayerAttention,
  LongRangePair,
  ModelSummary,
  NextToken,
  TokenInfo,
} from '../shared/protocol';
import type { InspectionOutput, InspectRequest } from '../shared/inspectContract';
import { longRangePairs, longRangePairsFromTop, topDrivers } from './analysis/drivers';
import { inductionProbe, inductionScores, summarizeHeads } from './analysis/headRoles';
import { EngineError } from './engineError';
import { tokenizeAsChat } from './runtime/chatTemplate';
import { validateText } from './runtime/inputValidation';
import type { MemoryShape } from './runtime/inspectionMemory';
import { availableBytes, formatGiB, inspectionBytes, tokensThatFit } from './runtime/inspectionMemory';
import type { LoadedModel } from './runtime/loadedModel';

export class InspectionCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

const inductionByModel = new WeakMap<LoadedModel, Float32Array[]>();

/** The most tokens this machine can inspect with `model`: its inspection's memory within the machine's RAM
 * less what the process (the loaded session included) already holds. */
export function memoryTokenLimit(
  model: LoadedModel,
  totalBytes = os.totalmem(),
  usedBytes = process.memoryUsage.rss(),
): number {
  return tokensThatFit(memoryShape(model), Math.max(0, totalBytes - usedBytes));
}

function memoryShape(model: LoadedModel): MemoryShape {
  const c = model.config;
  return {
    layers: c.layers,
    heads: c.heads,
    hidden: c.heads * c.headDim,
    intermediate: null,
    ...(model.hasExactRows ? { kvHeads: c.kvHeads, headDim: c.headDim } : {}),
    blocked: model.recomputesStatistics,
  };
}

/** The one-line refusal when a run would need more memory than the machine has free, else null. */
export function memoryRefusal(tokens: number, neededBytes: number, freeBytes: number): string | null {
  if (neededBytes <= freeBytes) return null;
  return `Inspecting ${tokens} tokens needs about ${formatGiB(neededBytes)} of memory; the machine has ${formatGiB(freeBytes)} free. Close other programs or inspect fewer tokens.`;
}

/** `array` itself where it is the whole of its own buffer (onnxruntime gives each output a fresh one, which
 * nothing else holds), else a copy: the buffers are transferred to the host. Copying 8 MiB of dense rows at
 * 512 tokens (and collecting them) cost more than the statistics themselves. */
function owned<T extends Uint8Array | Uint16Array | Float32Array>(array: T): T {
  return array.byteOffset === 0 && array.byteLength === array.buffer.byteLength ? array : (array.slice() as T);
}

function ownRows(rows: AttentionRows): AttentionRows {
  return {
    ...rows,
    weights: owned(rows.weights),
    rowScale: owned(rows.rowScale),
    ...(rows.indices ? { indices: owned(rows.indices) } : {}),
  };
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
  const scores = layers.map((l, layer) => {
    // runAttention returns probabilities by default; all-zero attention would mislabel every head.
    if (!l.data) throw new Error(`the induction probe got no probabilities for layer ${layer}`);
    return inductionScores(l.data, l.heads, l.n, probe.offset, probe.length);
  });
  inductionByModel.set(model, scores);
  return scores;
}

export function modelSummary(model: LoadedModel, requestedProvider?: ExecutionProviderSetting): ModelSummary {
  return {
    id: model.id,
    layers: model.config.layers,
    heads: model.config.heads,
    kvHeads: model.config.kvHeads,
    maxTokens: model.config.maxPositions,
    provider: model.provider,
    ...(model.fallbackReason ? { fallbackReason: model.fallbackReason } : {}),
    ...(requestedProvider ? { requestedProvider } : {}),
    ...(model.card ? { card: model.card } : {}),
    file: model.file.graph,
    dtype: model.dtype,
    ...(model.file.reason ? { fileReason: model.file.reason } : {}),
    ...(model.embedded ? { embedded: true } : {}),
    format: model.origin.format,
    ...(model.origin.quant ? { quant: model.origin.quant } : {}),
    ...(model.origin.architecture ? { architecture: model.origin.architecture } : {}),
  };
}

const NEXT_TOKENS = 10;

/** The most likely next tokens from the last position's logits (softmax in float64). */
export function nextTokens(model: LoadedModel, logits: Float32Array, count = NEXT_TOKENS): NextToken[] {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const top: number[] = [];
  for (let id = 0; id < logits.length; id++) {
    if (top.length === count && logits[id] <= logits[top[count - 1]]) continue;
    let at = top.length < count ? top.length : count - 1;
    top[at] = id;
    while (at > 0 && logits[top[at]] > logits[top[at - 1]]) {
      [top[at], top[at - 1]] = [top[at - 1], top[at]];
      at--;
    }
  }
  return top.map((id) => ({ id, text: model.tokenizer.decode([id]), p: Math.exp(logits[id] - max) / sum }));
}

/**
 * Keeps at most `limit` tokens: the first ones; or ('end') a leading special token (BOS, the sink) plus the
 * last ones; or, with `around` (a character offset), the leading special token plus the tokens centred on the
 * one at that offset (shifted inward at either end of the text).
 */
export function applyWindow(
  ids: number[],
  tokens: TokenInfo[],
  limit: number,
  window: 'start' | 'end',
  around?: number,
): { ids: number[]; tokens: TokenInfo[] } {
  if (tokens.length <= limit) return { ids, tokens };
  if (window === 'start' && around === undefined) return { ids: ids.slice(0, limit), tokens: tokens.slice(0, limit) };
  const lead = tokens[0]?.special ? 1 : 0;
  const room = limit - lead;
  let from = tokens.length - room;
  if (around !== undefined) {
    const at = tokens.findIndex((t) => !t.special && t.end > t.start && t.end > around);
    const centre = at === -1 ? tokens.length - 1 : at;
    from = Math.max(lead, Math.min(centre - Math.floor(room / 2), tokens.length - room));
  }
  return {
    ids: [...ids.slice(0, lead), ...ids.slice(from, from + room)],
    tokens: [...tokens.slice(0, lead), ...tokens.slice(from, from + room)],
  };
}

export async function runInspection(
  model: LoadedModel,
  request: InspectRequest,
  out: InspectionOutput,
  isCancelled: () => boolean,
): Promise<void> {
  const started = performance.now();
  const requestId = request.requestId;
  const check = (): void => {
    if (isCancelled()) throw new InspectionCancelled();
  };
  validateText(request.text, request.maxCharacters);
  out.emit({ kind: 'progress', requestId, stage: 'tokenize' });
  const chat = request.chat ? tokenizeAsChat(model.tokenizer, request.text, request.chat.userMessage, model.id) : null;
  const tokenized = chat ?? model.tokenizer.tokenize(request.text);
  const memoryLimit = memoryTokenLimit(model);
  const limit = Math.min(
    model.config.maxPositions,
    memoryLimit,
    request.maxTokens > 0 ? request.maxTokens : Number.POSITIVE_INFINITY,
  );
  const { ids, tokens } = applyWindow(tokenized.ids, tokenized.tokens, limit, request.window, request.around);
  const notes: string[] = [...(chat?.notes ?? [])];
  if (tokens.length < tokenized.tokens.length) {
    const why =
      limit === memoryLimit &&
      limit < model.config.maxPositions &&
      (request.maxTokens === 0 || request.maxTokens > limit)
        ? ` (this machine's memory runs ${memoryLimit} tokens of this model; its context is ${model.config.maxPositions})`
        : '';
    const which = request.around !== undefined ? 'the' : request.window === 'end' ? 'the last' : 'the first';
    const where = request.around !== undefined ? ' around the cursor' : '';
    notes.push(`Inspected ${which} ${tokens.length} of ${tokenized.tokens.length} tokens${where}${why}.`);
  }
  const tokenizedAt = performance.now();
  check();
  const needed = inspectionBytes(memoryShape(model), tokens.length);
  const free = availableBytes();
  const refusal = memoryRefusal(tokens.length, needed, free);
  if (refusal) throw new EngineError(refusal);
  out.emit({
    kind: 'header',
    requestId,
    header: { requestId, model: modelSummary(model, request.provider), text: request.text, tokens },
  });

  const induction = await modelInduction(model);
  check();
  out.emit({ kind: 'progress', requestId, stage: 'run', model: model.id, tokens: tokens.length });
  const ranAt = performance.now();
  const tensors = await model.runTensors(ids, {
    probabilities: out.onRawLayer !== undefined,
    // Rows come on demand from the kept Q and K: no head's rows are computed in advance.
    headRows: !(request.rowsOnDemand === true && model.hasExactRows),
  });
  const layers = tensors.layers;
  out.onExactRows?.(tensors.exact);
  const runDone = performance.now();
  check();

  const n = tokens.length;
  const heads: InspectionSummary['heads'][number][] = [];
  const received: Float32Array[] = [];
  for (let l = 0; l < layers.length; l++) {
    const layer = layers[l];
    const headSummaries = summarizeHeads(l, layer.scoreInputs, induction[l] ?? null);
    heads.push(...headSummaries);
    received.push(layer.received);
    if (layer.data) out.onRawLayer?.(l, layer.data, layer.heads, n);
    const compact: LayerAttention = {
      layer: l,
      heads: ownRows(layer.rows),
      rollout: ownRows(layer.rollout),
      received: layer.received.slice(), // own buffer: it is transferred to the host
      headSummaries,
      ...(layer.valueNorms ? { valueNorms: owned(layer.valueNorms) } : {}),
      ...(layer.tiles ? { tiles: { size: layer.tiles.size, data: owned(layer.tiles.data) } } : {}),
    };
    out.emit({ kind: 'layer', requestId, layer: compact });
    out.emit({
      kind: 'progress',
      requestId,
      stage: 'layers',
      layer: l + 1,
      layers: layers.length,
      fraction: (l + 1) / layers.length,
    });
    check();
  }
  const summed = layers.length - tensors.longRangeFrom;
  const pairs: LongRangePair[] =
    n <= 32
      ? []
      : tensors.longRangeTop
        ? longRangePairsFromTop(tensors.longRangeTop, summed, tokens)
        : longRangePairs(tensors.longRange, summed, tokens);
  const finished = performance.now();
  const summary: InspectionSummary = {
    heads,
    drivers: topDrivers(received, tokens),
    longRangePairs: pairs,
    timings: {
      tokenizeMs: tokenizedAt - started,
      runMs: runDone - ranAt,
      statsMs: finished - runDone,
      totalMs: finished - started,
    },
    notes,
    ...(tensors.lastLogits ? { next: nextTokens(model, tensors.lastLogits) } : {}),
  };
  out.emit({ kind: 'summary', requestId, summary });
}
