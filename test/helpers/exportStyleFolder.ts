// Model folders laid out the way people download them, around one reference decoder (referenceDecoder.ts)
// and the tiny tokenizer: an onnxruntime-genai builder folder (genai_config.json, model.onnx + model.onnx.data,
// no config.json), optimum's legacy merged decoder (onnx/decoder_model_merged.onnx + _data), and a
// transformers.js folder with only onnx/model_q4.onnx (builder-style GQA with MatMulNBits) or only
// onnx/model_fp16.onnx (torch-style, fp16 weights, cache and logits).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ExportOptions } from './exportStyleGraph';
import { buildExportGraph, externalizeWeights } from './exportStyleGraph';
import type { DecoderShape, DecoderWeights } from './referenceDecoder';
import { halfDecoder, mapProjections, quantizeQ4, randomDecoder, smallGqaShape } from './referenceDecoder';
import { llamaConfigJson } from './kvExportFolder';
import { buildTinyTokenizer } from './tinyTokenizer';

export type FolderStyle = 'genai' | 'merged' | 'q4-only' | 'fp16-only';

export interface ExportFolder {
  readonly folder: string;
  /** The weights the graph really holds (dequantized for q4), for the float64 reference. */
  readonly weights: DecoderWeights;
  /** The graph file, relative to the folder. */
  readonly graph: string;
}

function genaiConfigJson(shape: DecoderShape, filename: string): string {
  const hd = shape.hidden / shape.heads;
  return JSON.stringify({
    model: {
      type: 'llama',
      context_length: shape.maxPositions,
      vocab_size: shape.vocabSize,
      decoder: {
        filename,
        head_size: hd,
        hidden_size: shape.hidden,
        num_attention_heads: shape.heads,
        num_key_value_heads: shape.kvHeads,
        num_hidden_layers: shape.layers,
        inputs: {
          input_ids: 'input_ids',
          attention_mask: 'attention_mask',
          past_key_names: 'past_key_values.%d.key',
          past_value_names: 'past_key_values.%d.value',
        },
        outputs: { logits: 'logits', present_key_names: 'present.%d.key', present_value_names: 'present.%d.value' },
      },
    },
    search: { max_length: shape.maxPositions },
  });
}

async function writeGraph(folder: string, graph: string, bytes: Uint8Array, dataName: string | null): Promise<void> {
  await fs.mkdir(path.dirname(path.join(folder, graph)), { recursive: true });
  if (!dataName) {
    await fs.writeFile(path.join(folder, graph), bytes);
    return;
  }
  const { model, files } = externalizeWeights(bytes, () => dataName);
  await fs.writeFile(path.join(folder, graph), model);
  for (const [file, data] of files) await fs.writeFile(path.join(path.dirname(path.join(folder, graph)), file), data);
}

/** Writes a folder of `style` into `folder` (created). */
export async function writeExportFolder(folder: string, style: FolderStyle, seed = 21): Promise<ExportFolder> {
  const tokenizer = buildTinyTokenizer();
  const shape = smallGqaShape(tokenizer.vocabSize, 256);
  const weights = randomDecoder(shape, seed);
  await fs.mkdir(folder, { recursive: true });
  await fs.writeFile(path.join(folder, 'tokenizer.json'), tokenizer.tokenizerJson);
  await fs.writeFile(path.join(folder, 'tokenizer_config.json'), tokenizer.tokenizerConfigJson);
  const options: ExportOptions =
    style === 'genai'
      ? { style: 'gqa' }
      : style === 'merged'
        ? { style: 'torch', merged: true }
        : style === 'fp16-only'
          ? { style: 'torch', fp16: true }
          : { style: 'gqa', q4: true };
  const bytes = buildExportGraph(weights, options);
  let graph: string;
  if (style === 'genai') {
    graph = 'model.onnx';
    await fs.writeFile(path.join(folder, 'genai_config.json'), genaiConfigJson(shape, graph));
    await writeGraph(folder, graph, bytes, 'model.onnx.data');
  } else {
    await fs.writeFile(
      path.join(folder, 'config.json'),
      llamaConfigJson(shape, { architectures: ['LlamaForCausalLM'], bos_token_id: tokenizer.bosId }),
    );
    graph =
      style === 'merged'
        ? 'onnx/decoder_model_merged.onnx'
        : style === 'fp16-only'
          ? 'onnx/model_fp16.onnx'
          : 'onnx/model_q4.onnx';
    await writeGraph(folder, graph, bytes, style === 'merged' ? 'decoder_model_merged.onnx_data' : null);
  }
  const effective =
    style === 'q4-only'
      ? mapProjections(weights, (m, K, N) => quantizeQ4(m, K, N).dequantized)
      : style === 'fp16-only'
        ? halfDecoder(weights)
        : weights;
  return { folder, weights: effective, graph };
}
