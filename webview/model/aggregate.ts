// Turns streamed per-layer attention into one n × n matrix for the current selection:
// one head, the mean or max over heads; one layer or the mean over layers; raw attention, rollout, or
// attention × value norm (each head's row weighed by the keys' ‖v_j W_O^h‖ and renormalized; a layer that
// came without norms falls back to raw attention); optionally with the first-token sink hidden and each row renormalized without it.
import type { LayerAttention } from '../../src/shared/protocol';
import { addRowInto, maxRowInto, weightedRowInto } from './attentionRows';

export type LayerChoice = number | 'all';
export type HeadChoice = number | 'mean' | 'max';
export type AttentionMode = 'attention' | 'rollout' | 'value-norm';

export interface Selection {
  readonly layer: LayerChoice;
  readonly head: HeadChoice;
  readonly mode: AttentionMode;
  readonly hideSink: boolean;
}

/** Key index treated as the attention sink: the first token (BOS when the tokenizer adds one). */
export const SINK_INDEX = 0;

/** Layers the selection reads from, among those that have arrived (layers is indexed by layer number). */
export function layersFor(layers: readonly (LayerAttention | undefined)[], sel: Selection): LayerAttention[] {
  const present = layers.filter((l): l is LayerAttention => l !== undefined);
  if (sel.layer !== 'all') {
    const one = layers[sel.layer];
    return one ? [one] : [];
  }
  if (sel.mode === 'rollout') {
    // Rollout of the last layer already composes every layer below it.
    const last = present.reduce<LayerAttention | undefined>((a, b) => (!a || b.layer > a.layer ? b : a), undefined);
    return last ? [last] : [];
  }
  return present;
}

/**
 * The dense n × n matrix (row = query) for a selection, or null when its layers have not arrived yet.
 * `reuse` (length n × n) is overwritten instead of allocating 16 MB anew at n = 2,048.
 */
export function buildMatrix(
  layers: readonly (LayerAttention | undefined)[],
  n: number,
  heads: number,
  sel: Selection,
  reuse?: Float32Array,
): Float32Array | null {
  const chosen = layersFor(layers, sel);
  if (chosen.length === 0) return null;
  const out = reuse && reuse.length === n * n ? reuse : new Float32Array(n * n);
  if (out === reuse) out.fill(0);
  const layerScale = 1 / chosen.length;
  // Max over heads of several layers needs a per-row scratch; with one layer it accumulates in place.
  const scratch = sel.mode !== 'rollout' && sel.head === 'max' && chosen.length > 1 ? new Float32Array(n) : null;
  for (const layer of chosen)
    for (let q = 0; q < n; q++) layerRowInto(layer, n, heads, sel, q, out, layerScale, q * n, scratch);
  if (sel.hideSink) hideSinkInPlace(out, n);
  return out;
}

/** Query q's row of one layer for a selection, added layerScale × into out[at ..] (`scratch`: see buildMatrix). */
export function layerRowInto(
  layer: LayerAttention,
  n: number,
  heads: number,
  sel: Selection,
  q: number,
  out: Float32Array,
  layerScale: number,
  at: number,
  scratch: Float32Array | null,
): void {
  const norms = sel.mode === 'value-norm' ? layer.valueNorms : undefined;
  if (sel.mode === 'rollout') {
    addRowInto(layer.rollout, q, out, layerScale, at);
  } else if (norms) {
    valueNormRowInto(layer, norms, n, heads, q, sel.head, out, layerScale, at, scratch);
  } else if (sel.head === 'mean') {
    for (let h = 0; h < heads; h++) addRowInto(layer.heads, h * n + q, out, layerScale / heads, at);
  } else if (sel.head === 'max') {
    if (!scratch) {
      for (let h = 0; h < heads; h++) maxRowInto(layer.heads, h * n + q, out, at);
      return;
    }
    scratch.fill(0);
    for (let h = 0; h < heads; h++) maxRowInto(layer.heads, h * n + q, scratch);
    for (let key = 0; key < n; key++) out[at + key] += scratch[key] * layerScale;
  } else {
    addRowInto(layer.heads, sel.head * n + q, out, layerScale, at);
  }
}

/** Query q's attention × value norm row (one head, or the mean or max over heads) into out[at ..]. */
function valueNormRowInto(
  layer: LayerAttention,
  norms: Float32Array,
  n: number,
  heads: number,
  q: number,
  head: HeadChoice,
  out: Float32Array,
  layerScale: number,
  at: number,
  scratch: Float32Array | null,
): void {
  if (typeof head === 'number') return weightedRowInto(layer.heads, head * n + q, norms, head * n, out, layerScale, at);
  if (head === 'mean') {
    for (let h = 0; h < heads; h++) weightedRowInto(layer.heads, h * n + q, norms, h * n, out, layerScale / heads, at);
    return;
  }
  if (!scratch) {
    for (let h = 0; h < heads; h++) weightedRowInto(layer.heads, h * n + q, norms, h * n, out, 1, at, true);
    return;
  }
  scratch.fill(0);
  for (let h = 0; h < heads; h++) weightedRowInto(layer.heads, h * n + q, norms, h * n, scratch, 1, 0, true);
  for (let key = 0; key < n; key++) out[at + key] += scratch[key] * layerScale;
}

/**
 * Zeroes the sink column and rescales each row so its remaining weights sum to 1. Dividing by the decoded
 * remainder (not 1 − sink) keeps 8-bit rounding from inflating rows whose sink takes almost everything.
 */
export function hideSinkInPlace(matrix: Float32Array, n: number): void {
  for (let q = 0; q < n; q++) hideSinkRow(matrix, q * n, n);
}

/** hideSinkInPlace on one row, matrix[base .. base + n). */
export function hideSinkRow(matrix: Float32Array, base: number, n: number): void {
  matrix[base + SINK_INDEX] = 0;
  let rest = 0;
  for (let key = 0; key < n; key++) rest += matrix[base + key];
  const scale = rest > 1e-6 ? 1 / rest : 0;
  for (let key = 0; key < n; key++) matrix[base + key] *= scale;
}

/** Mean over layers of `received` (sums to 1), or the chosen layer's. */
export function receivedFor(
  layers: readonly (LayerAttention | undefined)[],
  n: number,
  layer: LayerChoice,
): Float32Array {
  const out = new Float32Array(n);
  const chosen =
    layer === 'all' ? layers.filter((l): l is LayerAttention => !!l) : layers[layer] ? [layers[layer]] : [];
  for (const l of chosen) for (let i = 0; i < n; i++) out[i] += l.received[i] / chosen.length;
  return out;
}
