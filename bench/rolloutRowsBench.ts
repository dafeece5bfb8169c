// Rollout rows on demand, timed (`node --import tsx bench/rolloutRowsBench.ts [tokens] [queries] [layers]`): the
// worker's background work for a screen of rows (analysis/rolloutRows.ts through onnxruntime's block product,
// runtime/rowKernel.ts), on random Q (fp16) and K (fp32), as the engine keeps them, of the Qwen2.5-0.5B layout
// (14 heads over 2 KV heads, head dim 64) and of the embedded model's (8 over 2, head dim 32); the queries are the
// last screen of the input. Prints the time per layer multiplied in and for the rollout through `layers` layers.
// No budget: the panel shows the progress.
import { ExactRows, OrtRowKernel } from '../src/engine/benchInternals';
import { seededRandom } from '../src/shared/seededRandom';

/** One layer's kept Q (fp16 bits around 1) and K (fp32), random. */
function randomLayer(n: number, heads: number, kvHeads: number, d: number, seed: number) {
  const random = seededRandom(seed);
  return {
    q: Uint16Array.from({ length: heads * n * d }, () => 0x3c00 ^ (Math.floor(random() * 0x3ff) & 0x3ff)),
    k: Float32Array.from({ length: kvHeads * n * d }, () => random() * 2 - 1),
    heads,
    kvHeads,
    headDim: d,
    scale: 1 / Math.sqrt(d),
    slidingWindow: null,
    softcap: null,
  };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 8192);
  const count = Number(process.argv[3] ?? 300);
  const layers = Number(process.argv[4] ?? 2);
  const kernel = new OrtRowKernel();
  for (const [label, heads, kvHeads, d] of [
    ['0.5B layout', 14, 2, 64],
    ['embedded model layout', 8, 2, 32],
  ] as const) {
    const rows = new ExactRows(
      n,
      Array.from({ length: layers }, (_, l) => randomLayer(n, heads, kvHeads, d, l + 1)),
      kernel,
    );
    const queries = Array.from({ length: count }, (_, i) => n - count + i);
    await rows.rolloutRows(0, [n - 1]); // sessions made, not timed
    const marks: number[] = [];
    const start = performance.now();
    await rows.rolloutRows(layers - 1, queries, { onProgress: () => marks.push(performance.now()) });
    const total = performance.now() - start;
    const steps = marks.map((t, i) => t - (i === 0 ? start : marks[i - 1]));
    console.log(
      `${label}, ${n} tokens, ${count} rows: ${layers} layers in ${total.toFixed(0)} ms; per layer ${steps.map((s) => s.toFixed(0)).join(', ')} ms (the first reads only the blocks holding the rows)`,
    );
  }
}

void main();
