// Writes a complete small model folder (Hugging Face layout) for tests: config.json, tokenizer.json,
// tokenizer_config.json, card.json and onnx/model.onnx (Llama-style, GQA, random weights).
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildLlamaGraph } from './llamaGraph';
import { buildTinyTokenizer } from './tinyTokenizer';

export interface TinyModelOptions {
  readonly layers?: number;
  readonly heads?: number;
  readonly kvHeads?: number;
  readonly hidden?: number;
  readonly maxPositions?: number;
  /** Vocabulary rows in the graph; smaller than the tokenizer's to make a mismatched model. */
  readonly graphVocabSize?: number;
  readonly fused?: boolean;
  readonly withPast?: boolean;
}

export interface TinyModel {
  readonly folder: string;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly maxPositions: number;
  readonly vocabSize: number;
}

/** Writes the model into `folder` (created). */
export async function writeTinyModel(folder: string, options: TinyModelOptions = {}): Promise<TinyModel> {
  const tokenizer = buildTinyTokenizer();
  const layers = options.layers ?? 2;
  const heads = options.heads ?? 4;
  const kvHeads = options.kvHeads ?? 2;
  const hidden = options.hidden ?? 32;
  const maxPositions = options.maxPositions ?? 128;
  const vocabSize = tokenizer.vocabSize;
  const graph = buildLlamaGraph({
    vocabSize: options.graphVocabSize ?? vocabSize,
    hidden,
    layers,
    heads,
    kvHeads,
    intermediate: hidden * 2,
    maxPositions,
    fused: options.fused,
    withPast: options.withPast,
  });
  await fs.mkdir(path.join(folder, 'onnx'), { recursive: true });
  const config = {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: vocabSize,
    hidden_size: hidden,
    intermediate_size: hidden * 2,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    max_position_embeddings: maxPositions,
    bos_token_id: tokenizer.bosId,
    eos_token_id: tokenizer.bosId + 1,
  };
  await fs.writeFile(path.join(folder, 'config.json'), JSON.stringify(config, null, 2));
  await fs.writeFile(path.join(folder, 'tokenizer.json'), tokenizer.tokenizerJson);
  await fs.writeFile(path.join(folder, 'tokenizer_config.json'), tokenizer.tokenizerConfigJson);
  await fs.writeFile(
    path.join(folder, 'card.json'),
    JSON.stringify({
      name: 'tiny-test-llama',
      parameters: 0,
      trainedOn: 'nothing (random weights)',
      proxyNote: 'A test model.',
    }),
  );
  await fs.writeFile(path.join(folder, 'onnx', 'model.onnx'), graph);
  return { folder, layers, heads, kvHeads, maxPositions, vocabSize };
}

/** A fresh temporary directory (removed by the caller with removeTempDir). */
export async function makeTempDir(prefix = 'pa-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeTempDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

/** A GPT-2-style folder (config keys n_layer / n_head / n_embd / n_positions; no position_ids input). */
export async function writeTinyGpt2Model(
  folder: string,
  options: { layers?: number; heads?: number; outputAttentions?: boolean } = {},
): Promise<TinyModel> {
  const { buildGpt2Graph } = await import('./gpt2Graph');
  const tokenizer = buildTinyTokenizer();
  const layers = options.layers ?? 2;
  const heads = options.heads ?? 4;
  const maxPositions = 256;
  await fs.mkdir(path.join(folder, 'onnx'), { recursive: true });
  const config = {
    model_type: 'gpt2',
    vocab_size: tokenizer.vocabSize,
    n_embd: 32,
    n_layer: layers,
    n_head: heads,
    n_positions: maxPositions,
    n_ctx: maxPositions,
  };
  await fs.writeFile(path.join(folder, 'config.json'), JSON.stringify(config));
  await fs.writeFile(path.join(folder, 'tokenizer.json'), tokenizer.tokenizerJson);
  await fs.writeFile(path.join(folder, 'tokenizer_config.json'), tokenizer.tokenizerConfigJson);
  const graph = buildGpt2Graph({
    vocabSize: tokenizer.vocabSize,
    hidden: 32,
    layers,
    heads,
    maxPositions,
    outputAttentions: options.outputAttentions,
  });
  await fs.writeFile(path.join(folder, 'onnx', 'model.onnx'), graph);
  return { folder, layers, heads, kvHeads: heads, maxPositions, vocabSize: tokenizer.vocabSize };
}
