// The pieces of a decode step that need no session: which present output feeds which past input, the last
// query's rows from a probabilities tensor, and picking the next token (greedy, or sampled in float64).
// generationSession.ts runs the steps.
import type * as ort from 'onnxruntime-node';
import { EngineError } from '../engineError';

/** The present output that carries what a past input needs on the next step (present.N.key ↔ past_key_values.N.key). */
export function presentFor(pastName: string, outputs: readonly string[]): string | undefined {
  const candidates = [
    pastName.replace(/^past_key_values/, 'present'),
    pastName.replace(/^past/, 'present'),
    pastName.replace(/^past_/, 'present_'),
  ];
  return candidates.find((c) => c !== pastName && outputs.includes(c));
}

/** The last query's row of every head from probabilities [1, heads, queries, keys]: heads × keys. */
export function lastRows(tensor: ort.Tensor, keys: number, name: string): Float32Array {
  const dims = tensor.dims;
  const k = dims[dims.length - 1];
  const q = dims[dims.length - 2];
  if (dims.length !== 4 || k !== keys)
    throw new EngineError(`Attention output ${name} has shape [${dims.join(', ')}], not [1, heads, queries, ${keys}].`);
  const heads = dims[1];
  const data = tensor.data as Float32Array;
  const rows = new Float32Array(heads * keys);
  for (let h = 0; h < heads; h++) rows.set(data.subarray((h * q + q - 1) * k, (h * q + q) * k), h * keys);
  return rows;
}

export function argmax(logits: Float32Array, vocab: number): number {
  let best = 0;
  for (let v = 1; v < vocab; v++) if (logits[v] > logits[best]) best = v;
  return best;
}

/** A draw from softmax(logits / temperature), in float64. */
export function sample(logits: Float32Array, vocab: number, temperature: number, random: () => number): number {
  let max = -Infinity;
  for (let v = 0; v < vocab; v++) if (logits[v] > max) max = logits[v];
  const weights = new Float64Array(vocab);
  let total = 0;
  for (let v = 0; v < vocab; v++) total += weights[v] = Math.exp((logits[v] - max) / temperature);
  let r = random() * total;
  for (let v = 0; v < vocab; v++) {
    r -= weights[v];
    if (r <= 0) return v;
  }
  return vocab - 1;
}
