// llama.cpp (through node-llama-cpp 3.21.1, CPU, no build or download) as the reference engine for GGUF
// files: loads a file and returns the next-token distribution at every position of a sequence of ids,
// renormalized in float64 (node-llama-cpp sums its probabilities in float32).
import type { ControlledEvaluateInputItem, Llama, Token } from 'node-llama-cpp';

let shared: Promise<Llama> | null = null;

export function llamaCpp(): Promise<Llama> {
  shared ??= import('node-llama-cpp').then(({ getLlama, LlamaLogLevel }) =>
    getLlama({
      gpu: false,
      build: 'never',
      skipDownload: true,
      progressLogs: false,
      maxThreads: 2,
      logLevel: LlamaLogLevel.error,
    }),
  );
  return shared;
}

/** Per position, the probability of every token id (length vocab), float64 and summing to 1. */
export async function llamaCppNextProbabilities(
  file: string,
  ids: readonly number[],
  vocab: number,
): Promise<Float64Array[]> {
  const llama = await llamaCpp();
  const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
  try {
    const context = await model.createContext({ contextSize: ids.length + 64, batchSize: ids.length + 64, threads: 2 });
    try {
      const sequence = context.getSequence();
      const results = await sequence.controlledEvaluate(
        ids.map((id): ControlledEvaluateInputItem => [id as Token, { generateNext: { probabilities: true } }]),
      );
      return results.map((result, position) => {
        const map = result?.next.probabilities;
        if (!map) throw new Error(`llama.cpp gave no probabilities at position ${position}`);
        const p = new Float64Array(vocab);
        let sum = 0;
        for (const [id, value] of map) {
          p[id] = value;
          sum += value;
        }
        for (let i = 0; i < vocab; i++) p[i] /= sum;
        return p;
      });
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}
