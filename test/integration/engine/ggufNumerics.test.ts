// The graph built from a GGUF file against two independent computations, on tiny fixtures of every weight
// type and architecture: llama.cpp (node-llama-cpp) on the same file, next-token distributions at every
// position (KL ≤ 2e-2 on quantized files, ≤ 1e-4 on F16/F32/BF16; top-1 equal except near-ties), and the
// float64 pass on the dequantized weights (ggufReference.ts): attention within 1e-4, next-token
// probabilities within 2e-3.
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { ALL_ROWS, PROBABILITY_ROWS_INPUT } from '../../../src/engine/graph/attentionStatsGraph';
import { LOGIT_ROWS_INPUT, LOGITS_OUTPUT } from '../../../src/engine/graph/ggufDecoder';
import { prepareGgufModel } from '../../../src/engine/runtime/ggufModel';
import type { GgmlTypeName } from '../../helpers/ggufEncoders';
import type { FixtureOptions } from '../../helpers/ggufFixtures';
import { buildGgufFixture } from '../../helpers/ggufFixtures';
import { ggufReferenceForward, klDivergence, softmaxRow } from '../../helpers/ggufReference';
import { llamaCppNextProbabilities } from '../../helpers/llamaCpp';
import { int64Tensor } from '../../helpers/ortTensors';

const IDS = [1, 261, 300, 45, 301, 302, 77, 303, 304, 300, 261, 305, 306, 120, 307, 308];
const FLOAT_TYPES = new Set<GgmlTypeName>(['F32', 'F16', 'BF16']);
let dir = '';
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gguf-numerics-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

export interface EngineRun {
  readonly logits: Float32Array;
  readonly probs: Float32Array[];
}

async function runEngine(file: string, ids: readonly number[]): Promise<EngineRun> {
  const prepared = await prepareGgufModel(file, path.join(dir, 'cache'));
  const session = await ort.InferenceSession.create(prepared.modelPath);
  try {
    const out = await session.run(
      {
        input_ids: int64Tensor(ids, [1, ids.length]),
        [LOGIT_ROWS_INPUT]: int64Tensor([ids.length], [1]),
        [PROBABILITY_ROWS_INPUT]: int64Tensor([ALL_ROWS], [1]),
      },
      [LOGITS_OUTPUT, ...prepared.stats.probabilities],
    );
    return {
      logits: out[LOGITS_OUTPUT].data as Float32Array,
      probs: prepared.stats.probabilities.map((name) => out[name].data as Float32Array),
    };
  } finally {
    await session.release();
  }
}

const CASES: FixtureOptions[] = [
  ...(
    ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K'] as const
  ).map((type): FixtureOptions => ({ arch: 'llama', type, addBos: type === 'Q4_K' })),
  { arch: 'llama', type: 'Q4_K', ropeFreqs: true, tied: true, embedType: 'Q8_0' },
  { arch: 'llama', type: 'Q6_K', ropeFreqs: true },
  { arch: 'qwen2', type: 'Q5_0', embedType: 'Q8_0', tied: true },
  { arch: 'qwen2', type: 'F16' },
  { arch: 'qwen3', type: 'Q4_K', outputType: 'Q6_K', addBos: false },
  { arch: 'qwen3', type: 'F16' },
  { arch: 'gemma3', type: 'Q8_0', slidingWindow: 5, outputType: 'Q6_K' },
  { arch: 'gemma3', type: 'F16', slidingWindow: 5 },
  { arch: 'phi3', type: 'Q4_0' },
  { arch: 'phi3', type: 'F16' },
];

for (const options of CASES) {
  const label = `${options.arch} ${options.type}${options.tied ? ' tied' : ''}${options.ropeFreqs ? ' rope_freqs' : ''}${options.slidingWindow ? ` window ${options.slidingWindow}` : ''}`;
  test(`${label}: next-token distributions match llama.cpp, attention and next match float64`, async () => {
    const fixture = buildGgufFixture(options);
    const file = path.join(dir, `${label.replace(/\W+/g, '-')}.gguf`);
    await fs.writeFile(file, fixture.bytes);
    const V = fixture.shape.vocab;
    const n = IDS.length;
    const engine = await runEngine(file, IDS);
    const reference = ggufReferenceForward(fixture, IDS);
    const llama = await llamaCppNextProbabilities(file, IDS, V);
    const limit = FLOAT_TYPES.has(options.type) ? 1e-4 : 2e-2;
    let worstKl = 0;
    let worstNext = 0;
    for (let t = 0; t < n; t++) {
      const ours = softmaxRow(engine.logits, t, V);
      const exact = softmaxRow(reference.logits, t, V);
      worstKl = Math.max(worstKl, klDivergence(llama[t], ours));
      for (let i = 0; i < V; i++) worstNext = Math.max(worstNext, Math.abs(ours[i] - exact[i]));
      const top = (p: Float64Array): number => p.indexOf(Math.max(...p));
      const sorted = [...llama[t]].sort((a, b) => b - a);
      if (sorted[0] - sorted[1] > 0.02) assert.equal(top(ours), top(llama[t]), `top-1 at position ${t}`);
    }
    let worstAttention = 0;
    for (let l = 0; l < fixture.layers.length; l++) {
      const ours = engine.probs[l];
      const exact = reference.probs[l];
      assert.equal(ours.length, exact.length);
      for (let i = 0; i < exact.length; i++) worstAttention = Math.max(worstAttention, Math.abs(ours[i] - exact[i]));
    }
    console.log(
      `# ${label}: KL ${worstKl.toExponential(2)}, attention ${worstAttention.toExponential(2)}, next ${worstNext.toExponential(2)}`,
    );
    assert.ok(worstKl <= limit, `KL to llama.cpp ${worstKl} > ${limit}`);
    assert.ok(worstAttention <= 1e-4, `attention off the float64 pass by ${worstAttention}`);
    assert.ok(worstNext <= 2e-3, `next-token probabilities off the float64 pass by ${worstNext}`);
  });
}
