// Binds attribution to the engine: the loaded (tapped) model gives the tokenizer and the attention, a plain
// LogitsSession of the same folder gives the answer's log-probabilities and greedy generation. Where the
// logits session's whole-prompt pass kept the attention (prefixCache.ts), that is used instead of a tapped run.
import { decodeRow } from './attentionEncoding';
import type { LoadedModel } from '../runtime/loadedModel';
import type { LogitsSession } from '../runtime/logitsSession';
import type { AttributionModel } from './attribution';

export function attributionModel(model: LoadedModel, logits: LogitsSession): AttributionModel {
  return {
    tokenize: (text) => model.tokenizer.tokenize(text),
    decode: (ids) => model.tokenizer.decode(ids),
    isSpecial: (id) => model.tokenizer.isSpecial(id),
    maxPositions: model.config.maxPositions,
    answerLogProbs: (sequences, onBatch, isCancelled, options) =>
      logits.answerLogProbs(sequences, onBatch, isCancelled, options),
    generate: (ids, max, stop, limit, isCancelled) => logits.generate(ids, max, stop, limit, isCancelled),
    attention: async (ids, from, to) => {
      // The whole prompt's scoring pass kept it (a graph with a prefix cache): no pass of its own.
      const kept = logits.passAttention(ids, from, to);
      if (kept) return { ...kept, reused: true };
      const layers = await model.runAttention(ids, { probabilities: false });
      const n = ids.length;
      const meanRow = new Float64Array(n);
      let rows = 0;
      for (const layer of layers) {
        for (let h = 0; h < layer.heads; h++) {
          for (let q = from; q <= to; q++) {
            const row = decodeRow(layer.rows, h * n + q);
            for (let k = 0; k <= q; k++) meanRow[k] += row[k];
            rows++;
          }
        }
      }
      for (let k = 0; k < n; k++) meanRow[k] /= Math.max(1, rows);
      return { received: layers.map((l) => l.received), meanRow, reused: false };
    },
  };
}
