// The real-size benchmark model: the Qwen2.5-0.5B shape (24 layers, 14 heads, 2 KV heads, hidden 896,
// intermediate 4864), random weights, fp32, about 1.46 GB, built with the test helpers' Llama graph builder
// and the embedded model's tokenizer (vocabulary 8,192). Built once into .cache/bench-realsize/ and reused
// while its recipe (FIXTURE_VERSION) is unchanged.
// The q4 variant is the same shape as the onnxruntime-genai builder writes a q4 export: GroupQueryAttention
// (probabilities through qk_output=2) and MatMulNBits projections (4-bit, block 32), as onnx/model_q4.onnx.
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { buildExportGraph } from '../test/helpers/exportStyleGraph';
import { buildLlamaGraph } from '../test/helpers/llamaGraph';
import { randomDecoder } from '../test/helpers/referenceDecoder';

export const REALSIZE_SHAPE = {
  layers: 24,
  heads: 14,
  kvHeads: 2,
  hidden: 896,
  intermediate: 4864,
  maxPositions: 32768,
} as const;
const FIXTURE_VERSION = 'qwen2.5-0.5b-shape-v1';
const Q4_FIXTURE_VERSION = 'qwen2.5-0.5b-shape-q4-v1';

export type RealSizeVariant = 'fp32' | 'q4';

/** The attention shape the engine's load passes to the tap cache (so the bench shares its entry). */
export const REALSIZE_ATTENTION = {
  heads: REALSIZE_SHAPE.heads,
  kvHeads: REALSIZE_SHAPE.kvHeads,
  headDim: REALSIZE_SHAPE.hidden / REALSIZE_SHAPE.heads,
} as const;

/** The graph each variant runs, relative to its folder. */
export const VARIANT_FILE: Readonly<Record<RealSizeVariant, string>> = {
  fp32: 'onnx/model.onnx',
  q4: 'onnx/model_q4.onnx',
};

/** Returns the variant's model folder, building it first when the cache has none. */
export async function realSizeFixture(
  root: string,
  log: (line: string) => void,
  variant: RealSizeVariant = 'fp32',
): Promise<string> {
  const version = variant === 'q4' ? Q4_FIXTURE_VERSION : FIXTURE_VERSION;
  const folder = path.join(root, '.cache', 'bench-realsize', version);
  const done = path.join(folder, 'complete');
  if (existsSync(done)) return folder;
  const started = performance.now();
  log(`real-size fixture: building ${version} (once, cached in ${path.relative(root, folder)})`);
  await fs.rm(folder, { recursive: true, force: true });
  await fs.mkdir(path.join(folder, 'onnx'), { recursive: true });
  const source = path.join(root, 'models', 'pa-mini-llama');
  const sourceConfig = JSON.parse(await fs.readFile(path.join(source, 'config.json'), 'utf8')) as {
    vocab_size: number;
    bos_token_id: number;
    eos_token_id: number;
  };
  for (const file of ['tokenizer.json', 'tokenizer_config.json'])
    await fs.copyFile(path.join(source, file), path.join(folder, file));
  const s = REALSIZE_SHAPE;
  const config = {
    architectures: ['Qwen2ForCausalLM'],
    model_type: 'qwen2',
    vocab_size: sourceConfig.vocab_size,
    hidden_size: s.hidden,
    intermediate_size: s.intermediate,
    num_hidden_layers: s.layers,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    max_position_embeddings: s.maxPositions,
    bos_token_id: sourceConfig.bos_token_id,
    eos_token_id: sourceConfig.eos_token_id,
    torch_dtype: 'float32',
  };
  await fs.writeFile(path.join(folder, 'config.json'), JSON.stringify(config, null, 2));
  const graph =
    variant === 'q4'
      ? buildExportGraph(randomDecoder({ vocabSize: sourceConfig.vocab_size, ...s }, 11), { style: 'gqa', q4: true })
      : buildLlamaGraph({ vocabSize: sourceConfig.vocab_size, ...s, seed: 11 });
  await fs.writeFile(path.join(folder, VARIANT_FILE[variant]), graph);
  await fs.writeFile(done, `${new Date().toISOString()}\n`);
  log(
    `real-size fixture: ${(graph.length / 2 ** 30).toFixed(2)} GiB written in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  return folder;
}
