// The rollout of every position of a whole pass (the prompt before the answer is generated, or prompt and
// given answer read at once), per layer, as [n, n] matrices: head means in JavaScript, then R_0 = ½M_0 + ½I
// and one onnxruntime product per layer above it (graph/rolloutStepGraph.ts). At 2,048 tokens the products
// take about 0.4 s a layer on two cores, a JavaScript loop several seconds. The session is created once.
import type * as ort from 'onnxruntime-node';
import { rolloutStepModel } from '../graph/rolloutStepGraph';

export class RolloutProduct {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly runtime: typeof ort,
  ) {}

  static async open(runtime: typeof ort): Promise<RolloutProduct> {
    const session = await runtime.InferenceSession.create(rolloutStepModel(), { graphOptimizationLevel: 'all' });
    return new RolloutProduct(session, runtime);
  }

  /**
   * Per layer, R_l over the pass's n positions ([n, n] row-major, zero above the diagonal), from its
   * attention probabilities per layer ([heads, n, n], causal).
   */
  async whole(probabilities: readonly Float32Array[], n: number): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const data of probabilities) {
      const mean = headMeans(data, n);
      const below = out[out.length - 1];
      if (below === undefined) {
        for (let i = 0; i < n * n; i++) mean[i] *= 0.5;
        for (let i = 0; i < n; i++) mean[i * n + i] += 0.5;
        out.push(mean);
        continue;
      }
      const square = (values: Float32Array): ort.Tensor => new this.runtime.Tensor('float32', values, [n, n]);
      const result = await this.session.run({ mean: square(mean), below: square(below) });
      out.push(result.rollout.data as Float32Array);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** The mean over heads of [heads, n, n] probabilities: [n, n], lower triangle only (causal). */
function headMeans(data: Float32Array, n: number): Float32Array {
  const heads = data.length / (n * n);
  const mean = new Float32Array(n * n);
  for (let h = 0; h < heads; h++)
    for (let q = 0; q < n; q++) {
      const from = (h * n + q) * n;
      for (let k = 0; k <= q; k++) mean[q * n + k] += data[from + k];
    }
  for (let i = 0; i < n * n; i++) mean[i] /= heads;
  return mean;
}
