// Generation with attention captured against plain KV-cache decoding of the same graph: a torch-style export
// of the embedded model's shape (random weights, past_key_values inputs, built here from the test helpers'
// builder) continues a 1,024-token prompt by 64 greedy tokens. "Captured" is GenerationSession (the graph
// with its attention probabilities exposed, each answer token's rows read per layer and head); "plain" is an
// onnxruntime session of the untouched graph fetching the logits and the cache only. Per-token time counts
// the decode steps (prefill excluded), interleaved per round. generate.ratioPerTokenToPlainDecode is the
// ratio of the medians.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { GenerationSession, type ModelConfig } from '../src/engine/benchInternals';
import { buildExportGraph } from '../test/helpers/exportStyleGraph';
import { randomDecoder, type DecoderShape } from '../test/helpers/referenceDecoder';
import { median } from './stats';

const SHAPE: DecoderShape = {
  vocabSize: 8192,
  hidden: 256,
  layers: 4,
  heads: 8,
  kvHeads: 2,
  intermediate: 688,
  maxPositions: 2048,
};

export interface GenerateBenchOptions {
  readonly root: string;
  readonly promptTokens: number;
  readonly tokens: number;
  readonly rounds: number;
  readonly log: (line: string) => void;
}

export interface GenerateBenchResult {
  readonly promptTokens: number;
  readonly tokens: number;
  readonly capturedPerTokenMs: number;
  readonly plainPerTokenMs: number;
  /** capturedPerTokenMs / plainPerTokenMs (budget ≤ 1.3). */
  readonly ratioPerTokenToPlainDecode: number;
  /** The panel's generation: rows, plus each token's rollout and value-norm rows (no budget; what they cost). */
  readonly panelPerTokenMs: number;
  readonly ratioPanelToPlainDecode: number;
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));

async function fixture(root: string): Promise<string> {
  const folder = path.join(root, '.cache', 'bench-generate');
  const file = path.join(folder, 'onnx', 'model.onnx');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, buildExportGraph(randomDecoder(SHAPE, 3), { style: 'torch' }));
  return folder;
}

const config: ModelConfig = {
  modelType: 'llama',
  vocabSize: SHAPE.vocabSize,
  hidden: SHAPE.hidden,
  layers: SHAPE.layers,
  heads: SHAPE.heads,
  kvHeads: SHAPE.kvHeads,
  headDim: SHAPE.hidden / SHAPE.heads,
  intermediate: SHAPE.intermediate,
  maxPositions: SHAPE.maxPositions,
} as unknown as ModelConfig;

/** Plain greedy KV-cache decoding on the untouched graph; returns the decode steps' milliseconds. */
async function plainDecode(session: ort.InferenceSession, prompt: readonly number[], tokens: number): Promise<number> {
  const int64 = (values: readonly number[], dims: number[]): ort.Tensor =>
    new ort.Tensor(
      'int64',
      BigInt64Array.from(values, (v) => BigInt(v)),
      dims,
    );
  const hd = SHAPE.hidden / SHAPE.heads;
  const past: Record<string, ort.Tensor> = {};
  for (let l = 0; l < SHAPE.layers; l++)
    for (const kind of ['key', 'value'])
      past[`past_key_values.${l}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, SHAPE.kvHeads, 0, hd]);
  const presents = Object.keys(past).map((name) => name.replace('past_key_values', 'present'));
  const run = async (ids: readonly number[], at: number, length: number) => {
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(ids, [1, ids.length]),
      attention_mask: int64(new Array<number>(length).fill(1), [1, length]),
      ...past,
    };
    if (session.inputNames.includes('position_ids'))
      feeds.position_ids = int64(
        ids.map((_, i) => at + i),
        [1, ids.length],
      );
    const out = await session.run(feeds, ['logits', ...presents]);
    for (const name of presents) past[name.replace('present', 'past_key_values')] = out[name] as ort.Tensor;
    const logits = out.logits.data as Float32Array;
    const base = logits.length - SHAPE.vocabSize;
    let best = 0;
    for (let v = 1; v < SHAPE.vocabSize; v++) if (logits[base + v] > logits[base + best]) best = v;
    return best;
  };
  let next = await run(prompt, 0, prompt.length);
  const started = performance.now();
  for (let i = 0; i < tokens; i++) next = await run([next], prompt.length + i, prompt.length + i + 1);
  return performance.now() - started;
}

export async function runGenerateBench(options: GenerateBenchOptions): Promise<GenerateBenchResult> {
  const folder = await fixture(options.root);
  const graph = path.join(folder, 'onnx', 'model.onnx');
  const plain = await ort.InferenceSession.create(graph, { graphOptimizationLevel: 'all', enableMemPattern: false });
  const captured = await GenerationSession.open(folder, config, { provider: 'cpu' });
  const panel = await GenerationSession.open(folder, config, { provider: 'cpu', valueNorms: 'when-supported' });
  try {
    const prompt = Array.from({ length: options.promptTokens }, (_, i) => 1 + ((i * 7919) % (SHAPE.vocabSize - 2)));
    const capturedMs: number[] = [];
    const plainMs: number[] = [];
    const panelMs: number[] = [];
    /** Milliseconds per decode step after the first token (prefill and the first step excluded). */
    const perToken = async (session: GenerationSession, rollout: boolean): Promise<number> => {
      let first = 0;
      let last = 0;
      const tokens = await session.generate(prompt, {
        maxTokens: options.tokens + 1,
        rollout,
        onToken: (t) => {
          if (t.index === 0) first = performance.now();
          last = performance.now();
        },
      });
      return (last - first) / (tokens.length - 1);
    };
    for (let r = 0; r <= options.rounds; r++) {
      const capturedStepMs = await perToken(captured, false);
      const plainStepsMs = await plainDecode(plain, prompt, options.tokens);
      const panelStepMs = await perToken(panel, true);
      if (r === 0) continue; // warm-up
      capturedMs.push(capturedStepMs);
      plainMs.push(plainStepsMs / options.tokens);
      panelMs.push(panelStepMs);
    }
    const result: GenerateBenchResult = {
      promptTokens: options.promptTokens,
      tokens: options.tokens,
      capturedPerTokenMs: round(median(capturedMs)),
      plainPerTokenMs: round(median(plainMs)),
      ratioPerTokenToPlainDecode: round(median(capturedMs) / median(plainMs)),
      panelPerTokenMs: round(median(panelMs)),
      ratioPanelToPlainDecode: round(median(panelMs) / median(plainMs)),
    };
    options.log(
      `generate: ${result.tokens} tokens after ${result.promptTokens}: captured ${result.capturedPerTokenMs} ms/token, plain ${result.plainPerTokenMs} ms/token = ${result.ratioPerTokenToPlainDecode}×; with rollout and value norms ${result.panelPerTokenMs} ms/token = ${result.ratioPanelToPlainDecode}×`,
    );
    return result;
  } finally {
    await captured.dispose();
    await panel.dispose();
    await plain.release();
  }
}

export function renderGenerateMarkdown(g: GenerateBenchResult): string {
  return [
    '',
    '## Generate: attention captured per token',
    '',
    `${g.tokens} greedy tokens after a ${g.promptTokens}-token prompt, the embedded model's shape as a KV-cache export (random weights). Captured: GenerationSession (each answer token's rows per layer and head); plain: the untouched graph, logits and cache only. Decode steps only, medians.`,
    '',
    '| Captured ms/token | Plain ms/token | generate.ratioPerTokenToPlainDecode (≤ 1.3) |',
    '| --- | --- | --- |',
    `| ${g.capturedPerTokenMs} | ${g.plainPerTokenMs} | ${g.ratioPerTokenToPlainDecode} |`,
    '',
    `The panel's generation also gives each token its rollout and its value-norm rows: ${g.panelPerTokenMs} ms/token, ${g.ratioPanelToPlainDecode}× plain decoding (no budget).`,
    '',
  ].join('\n');
}
