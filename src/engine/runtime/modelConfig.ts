// The parts of a Hugging Face config.json the engine needs, across architectures' naming conventions (or of
// an onnxruntime-genai genai_config.json when a builder folder has no config.json).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ModelCardSummary } from '../../shared/protocol';
import { EngineError } from '../engineError';
import { checkConfigKeys, checkConfigNumbers, type CheckedNumbers } from './configLimits';

export interface ModelConfig extends CheckedNumbers {
  readonly modelType: string;
}

type Json = Record<string, unknown>;

function firstNumber(json: Json, keys: readonly string[]): number | null {
  for (const key of keys) {
    const value = json[key];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  }
  return null;
}

export function parseModelConfig(raw: Json, file: string): ModelConfig {
  // Multimodal / nested configs keep the language model's numbers under text_config.
  const json =
    typeof raw.text_config === 'object' && raw.text_config !== null ? { ...raw, ...(raw.text_config as Json) } : raw;
  checkConfigKeys(json, file);
  const layers = firstNumber(json, ['num_hidden_layers', 'n_layer', 'num_layers', 'n_layers']);
  const heads = firstNumber(json, ['num_attention_heads', 'n_head', 'num_heads', 'n_heads']);
  if (!layers || !heads) throw new EngineError(`${file} does not give the number of layers and attention heads.`);
  const kvHeads = firstNumber(json, ['num_key_value_heads', 'n_head_kv', 'num_kv_heads']) ?? heads;
  const hidden = firstNumber(json, ['hidden_size', 'n_embd', 'd_model']);
  const headDim = firstNumber(json, ['head_dim']) ?? (hidden ? hidden / heads : 64);
  const maxPositions =
    firstNumber(json, ['max_position_embeddings', 'n_positions', 'n_ctx', 'max_sequence_length', 'seq_length']) ?? 2048;
  const config: ModelConfig = {
    modelType: typeof json.model_type === 'string' ? json.model_type : 'unknown',
    layers,
    heads,
    kvHeads,
    headDim,
    maxPositions,
    vocabSize: firstNumber(json, ['vocab_size', 'n_vocab']),
  };
  checkConfigNumbers(config, file);
  return config;
}

export async function readModelConfig(folder: string): Promise<ModelConfig> {
  const file = path.join(folder, 'config.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    // A folder without config.json is the common mistake: say what a model folder must hold.
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    const genai = missing ? await readGenaiConfig(folder) : null;
    if (genai) return genai;
    throw new EngineError(
      missing
        ? `No model in ${folder}: cannot read model config ${file} (a model folder holds config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx).`
        : `Cannot read model config ${file}.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EngineError(`Model config ${file} is not valid JSON.`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new EngineError(`Model config ${file} is not a JSON object.`);
  return parseModelConfig(json as Json, file);
}

/**
 * onnxruntime-genai builder folders may have only genai_config.json: its model.decoder block gives the same
 * numbers under other names.
 */
async function readGenaiConfig(folder: string): Promise<ModelConfig | null> {
  const file = path.join(folder, 'genai_config.json');
  let json: { model?: Json & { decoder?: Json } };
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8')) as typeof json;
  } catch {
    return null;
  }
  const model = json.model;
  const decoder = model?.decoder;
  if (typeof decoder !== 'object' || decoder === null) return null;
  const config: Json = {
    model_type: model?.type,
    num_hidden_layers: decoder.num_hidden_layers,
    num_attention_heads: decoder.num_attention_heads,
    num_key_value_heads: decoder.num_key_value_heads,
    head_dim: decoder.head_size,
    hidden_size: decoder.hidden_size,
    max_position_embeddings: model?.context_length,
    vocab_size: model?.vocab_size,
  };
  return parseModelConfig(Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)), file);
}

/** card.json (optional): the short model card the panel shows. */
export async function readModelCard(folder: string): Promise<ModelCardSummary | undefined> {
  try {
    const json = JSON.parse(await fs.readFile(path.join(folder, 'card.json'), 'utf8')) as Record<string, unknown>;
    const text = (key: string): string => (typeof json[key] === 'string' ? (json[key] as string) : '');
    return {
      name: text('name') || path.basename(folder),
      parameters: typeof json.parameters === 'number' ? json.parameters : 0,
      trainedOn: text('trainedOn') || text('trained_on'),
      proxyNote: text('proxyNote') || text('proxy_note'),
    };
  } catch {
    return undefined;
  }
}
