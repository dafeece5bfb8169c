// The rollout of every position of a whole pass (the prompt before the answer is generated, or prompt and
// given answer read at once), per layer, as [n, n] matrices: head means in JavaScript, then R_0 = ½M_0 + ½I
// and one onnxruntime product per layer above it (graph/rolloutStepGraph.ts). At 2,048 tokens the products
// take about 0.4 s a layer on two cores, a JavaScript loop several seconds. The session is created once.
import type * as ort from 'onnxruntime-node';
import { rolloutStepModel } from '../graph/rolloutStepGraph';

/** A whole pass's rollout: per layer R_l [n, n] row-major, views into one buffer (layer after layer). */
export interface PassRollout {
  readonly n: number;
  readonly matrices: readonly Float32Array[];
  readonly stack: Float32Array;
}

export class RolloutProduct {
  private constructor(
    private readonly step: ort.InferenceSession,
    private readonly runtime: typeof ort,
  ) {}

  static async open(runtime: typeof ort): Promise<RolloutProduct> {
    const step = await runtime.InferenceSession.create(rolloutStepModel(), { graphOptimizationLevel: 'all' });
    return new RolloutProduct(step, runtime);
  }

  /**
   * Per layer, R_l over the pass's n positions ([n, n] row-major, zero above the diagonal), from its
   * attention probabilities per layer ([heads, n, n], causal).
   */
  async whole(probabilities: readonly Float32Array[], n: number): Promise<PassRollout> {
    const stack = new Float32Array(probabilities.length * n * n);
    const matrices: Float32Array[] = [];
    for (const data of probabilities) {
      const mean = headMeans(data, n);
      const at = matrices.length * n * n;
      const below = matrices[matrices.length - 1];
      if (below === undefined) {
        for (let i = 0; i < n * n; i++) mean[i] *= 0.5;
        for (let i = 0; i < n; i++) mean[i * n + i] += 0.5;
        stack.set(mean, at);
      } else {
        const square = (values: Float32Array): ort.Tensor => new this.runtime.Tensor('float32', values, [n, n]);
        const result = await this.step.run({ mean: square(mean), below: square(below) });
        stack.set(result.rollout.data as Float32Array, at);
      }
      matrices.push(stack.subarray(at, at + n * n));
    }
    return { n, matrices, stack };
  }

  async release(): Promise<void> {
    await this.step.release();
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
