// The reference the attribution tests score against: per answer token, log p from the untouched export run on
// the whole sequence (batch 1, every position), by a float64 log-softmax of its logits.
import type * as ort from 'onnxruntime-node';
import { int64Tensor } from './ortTensors';

/** log p(ids[p + 1] | ids[..p]) for every answer token (positions answerStart..n − 1). */
export async function referenceAnswerLogProbs(
  session: ort.InferenceSession,
  ids: readonly number[],
  answerStart: number,
): Promise<number[]> {
  const n = ids.length;
  const out = await session.run({
    input_ids: int64Tensor(ids, [1, n]),
    attention_mask: int64Tensor(
      ids.map(() => 1),
      [1, n],
    ),
    position_ids: int64Tensor(
      ids.map((_, i) => i),
      [1, n],
    ),
  });
  const data = out.logits.data as Float32Array;
  const vocab = out.logits.dims[2];
  const scores: number[] = [];
  for (let p = answerStart - 1; p < n - 1; p++) {
    const row = Array.from(data.subarray(p * vocab, (p + 1) * vocab), Number);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    scores.push(row[ids[p + 1]] - lse);
  }
  return scores;
}
