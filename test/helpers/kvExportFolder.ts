// A model folder around one reference decoder as a torch-style export with a KV cache (past_key_values
// inputs, inline weights): onnx/model.onnx and config.json, and the tiny tokenizer's files when given. The
// generation, value-norm and `inspect --generate` tests check it against the float64 reference decoder.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { buildExportGraph } from './exportStyleGraph';
import type { DecoderShape, DecoderWeights } from './referenceDecoder';
import type { TinyTokenizerFiles } from './tinyTokenizer';

/** A Llama config.json for `shape`, with `extra` fields (architectures, bos_token_id) after the shape's. */
export function llamaConfigJson(shape: DecoderShape, extra: Readonly<Record<string, unknown>> = {}): string {
  return JSON.stringify({
    model_type: 'llama',
    vocab_size: shape.vocabSize,
    hidden_size: shape.hidden,
    intermediate_size: shape.intermediate,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.kvHeads,
    max_position_embeddings: shape.maxPositions,
    ...extra,
  });
}

export async function writeKvExportFolder(
  folder: string,
  weights: DecoderWeights,
  tokenizer?: TinyTokenizerFiles,
): Promise<string> {
  await fs.mkdir(path.join(folder, 'onnx'), { recursive: true });
  await fs.writeFile(path.join(folder, 'onnx', 'model.onnx'), buildExportGraph(weights, { style: 'torch' }));
  await fs.writeFile(
    path.join(folder, 'config.json'),
    llamaConfigJson(weights.shape, tokenizer ? { bos_token_id: tokenizer.bosId } : {}),
  );
  if (tokenizer) {
    await fs.writeFile(path.join(folder, 'tokenizer.json'), tokenizer.tokenizerJson);
    await fs.writeFile(path.join(folder, 'tokenizer_config.json'), tokenizer.tokenizerConfigJson);
  }
  return folder;
}
