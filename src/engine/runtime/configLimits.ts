// Bounds on the numbers a model folder's config.json may give. The folder can come from a workspace or a
// download, and these numbers size tensors, loops and allocations (feeds, the attention memory limit, the
// empty KV cache), so each is checked before use: a positive integer, within a bound no real model comes
// near, and consistent with the others (query heads a multiple of the KV heads). A bad value is one line
// naming the key and the file.
import { EngineError } from '../engineError';

/** Upper bounds, each well above the largest published model (about 4x). */
export const CONFIG_LIMITS = {
  layers: 1024,
  heads: 1024,
  headDim: 4096,
  hidden: 131_072,
  /** Llama 4 Scout gives 10M positions. */
  maxPositions: 16 * 1024 * 1024,
  /** The largest vocabularies are about 262k. */
  vocabSize: 4 * 1024 * 1024,
} as const;

/** config.json keys (across naming conventions) and which bound each falls under. */
const KEY_LIMITS: Readonly<Record<string, keyof typeof CONFIG_LIMITS>> = {
  num_hidden_layers: 'layers',
  n_layer: 'layers',
  num_layers: 'layers',
  n_layers: 'layers',
  num_attention_heads: 'heads',
  n_head: 'heads',
  num_heads: 'heads',
  n_heads: 'heads',
  num_key_value_heads: 'heads',
  n_head_kv: 'heads',
  num_kv_heads: 'heads',
  head_dim: 'headDim',
  hidden_size: 'hidden',
  n_embd: 'hidden',
  d_model: 'hidden',
  max_position_embeddings: 'maxPositions',
  n_positions: 'maxPositions',
  n_ctx: 'maxPositions',
  max_sequence_length: 'maxPositions',
  seq_length: 'maxPositions',
  vocab_size: 'vocabSize',
  n_vocab: 'vocabSize',
};

export interface CheckedNumbers {
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly maxPositions: number;
  readonly vocabSize: number | null;
}

/** Every sizing key present in `json` is a positive integer within its bound (null means "not given"). */
export function checkConfigKeys(json: Readonly<Record<string, unknown>>, file: string): void {
  for (const [key, limit] of Object.entries(KEY_LIMITS)) {
    if (!(key in json) || json[key] === null) continue;
    const value = json[key];
    const max = CONFIG_LIMITS[limit];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new EngineError(`Model config ${file}: ${key} is ${short(value)}, not a positive whole number.`);
    }
    if (value > max)
      throw new EngineError(
        `Model config ${file}: ${key} is ${value}, above the ${max.toLocaleString('en-US')} the inspector accepts.`,
      );
  }
}

/** The parsed numbers agree with each other and stay within bounds. */
export function checkConfigNumbers(config: CheckedNumbers, file: string): void {
  const whole = (name: string, value: number, max: number): void => {
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new EngineError(
        `Model config ${file}: ${name} works out to ${short(value)}, not a whole number from 1 to ${max.toLocaleString('en-US')}.`,
      );
    }
  };
  whole('layers', config.layers, CONFIG_LIMITS.layers);
  whole('attention heads', config.heads, CONFIG_LIMITS.heads);
  whole('key/value heads', config.kvHeads, CONFIG_LIMITS.heads);
  whole('head size (hidden size / heads)', config.headDim, CONFIG_LIMITS.headDim);
  whole('context length', config.maxPositions, CONFIG_LIMITS.maxPositions);
  if (config.vocabSize !== null) whole('vocabulary size', config.vocabSize, CONFIG_LIMITS.vocabSize);
  if (config.kvHeads > config.heads || config.heads % config.kvHeads !== 0) {
    throw new EngineError(
      `Model config ${file}: ${config.heads} attention heads cannot share ${config.kvHeads} key/value heads (they must divide evenly).`,
    );
  }
}

function short(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
