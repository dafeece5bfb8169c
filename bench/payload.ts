// Payload sizes: what the panel receives per inspection (typed arrays as bytes plus the JSON of everything
// else), against the same attention sent the BertViz way, as a JSON array of numbers.
import type { InspectionResult } from '../src/shared/protocol';
import { resultEvents } from '../src/shared/resultEvents';

export interface PayloadSize {
  /** Sum of the typed arrays' byteLength (they travel as binary). */
  readonly binaryBytes: number;
  /** UTF-8 bytes of the JSON of the rest (typed arrays left out). */
  readonly jsonBytes: number;
  readonly totalBytes: number;
}

/** Bytes of the messages the host sends to the panel for one inspection (start, one per layer, done). */
export function panelPayloadSize(result: InspectionResult): PayloadSize {
  let binaryBytes = 0;
  const skipTyped = (_key: string, value: unknown): unknown => {
    if (ArrayBuffer.isView(value)) {
      binaryBytes += value.byteLength;
      return undefined;
    }
    return value;
  };
  const parts = resultEvents(result).map((event) => JSON.stringify(event, skipTyped));
  const jsonBytes = parts.reduce((sum, part) => sum + Buffer.byteLength(part, 'utf8'), 0);
  return { binaryBytes, jsonBytes, totalBytes: binaryBytes + jsonBytes };
}

/**
 * Counts, without building the string, the bytes of JSON.stringify(attention) for attention nested as
 * [layer][head][query][key] of float32 values (what `JSON.stringify(Array.from(row))` prints per number).
 * Feed it one layer at a time; `bytes` is exact.
 */
export class DenseJsonSize {
  private layers = 0;
  private numberChars = 0;
  private punctuation = 0;

  addLayer(data: Float32Array, heads: number, n: number): void {
    let chars = 0;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      // 0 and 1 are common (causal mask, first row); everything else prints its shortest round-trip form.
      chars += v === 0 || v === 1 ? 1 : String(v).length;
    }
    this.numberChars += chars;
    // Per row: brackets and n-1 commas; per head: brackets and rows-1 commas; per layer: brackets and heads-1 commas.
    this.punctuation += heads * n * (2 + (n - 1)) + heads * (2 + (n - 1)) + 2 + (heads - 1);
    this.layers++;
  }

  get bytes(): number {
    if (this.layers === 0) return 2;
    return this.numberChars + this.punctuation + 2 + (this.layers - 1);
  }
}
