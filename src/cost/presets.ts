// Target-model presets: the built-in ones from presets.json plus the user's, validated field by field.
import builtInFile from './presets.json';

export const TOKENIZER_IDS = [
  'o200k_base',
  'cl100k_base',
  'llama3',
  'llama2',
  'mistral',
  'qwen2',
  'o200k_harmony',
  'qwen3',
  'gemma3',
  'deepseek_v3',
  'claude',
] as const;
export type TokenizerId = (typeof TOKENIZER_IDS)[number];

/** The providers whose own token-count endpoints give an exact count on request. */
export const COUNT_API_PROVIDERS = ['anthropic', 'gemini'] as const;
export type CountApiProvider = (typeof COUNT_API_PROVIDERS)[number];

/** Bytes per element of the KV cache for each dtype a user can pick. */
export const KV_DTYPE_BYTES = { fp32: 4, fp16: 2, bf16: 2, fp8: 1, int8: 1, int4: 0.5 } as const;
export type KvDtype = keyof typeof KV_DTYPE_BYTES;

export interface Architecture {
  readonly layers: number;
  readonly attentionHeads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly hiddenSize: number;
  readonly parameters: number;
  /** Sliding-window attention (Mistral 7B v0.1): each query sees at most this many keys, and the KV cache holds as
   * many. */
  readonly slidingWindow?: number;
  /** Layers that use the sliding window (Gemma 3: 5 of every 6; gpt-oss: every other one); all layers when absent. */
  readonly slidingWindowLayers?: number;
  /** Parameters used per token (mixture-of-experts); the dense FLOPs use it. Equal to `parameters` when absent. */
  readonly activeParameters?: number;
  /**
   * Multi-head latent attention (DeepSeek-V3): the cache holds one compressed latent of `kvLoraRank` plus one
   * shared rotary key of `qkRopeHeadDim` per token and layer, not per-head K and V. `headDim` is then the
   * query/key head dim (no-rope + rope part) and `valueHeadDim` the value head dim.
   */
  readonly mla?: { readonly kvLoraRank: number; readonly qkRopeHeadDim: number; readonly valueHeadDim: number };
}

/** A higher input price for the whole prompt once it is longer than `aboveTokens` (Gemini 2.5 Pro, Claude long
 * context). */
export interface PriceTier {
  readonly aboveTokens: number;
  readonly pricePerMillionInputTokens: number;
}

/** Tokens the chat format adds around one user message: fixed, or a prefix and suffix counted with the tokenizer. */
export type ChatFraming = { readonly tokens: number } | { readonly prefix: string; readonly suffix: string };

export interface CountApi {
  readonly provider: CountApiProvider;
  /** The model id the provider's endpoint takes. */
  readonly model: string;
}

export interface TargetPreset {
  readonly id: string;
  readonly name: string;
  readonly tokenizer: TokenizerId;
  readonly contextWindow: number;
  /** null where the architecture is not public. */
  readonly architecture: Architecture | null;
  readonly kvDtype: KvDtype | null;
  readonly pricePerMillionInputTokens: number | null;
  /** Tiers above the base price, ascending. */
  readonly priceTiers: readonly PriceTier[];
  /** Groups the target picker ("OpenAI", "Meta", …; "Custom" for user presets without one). */
  readonly provider: string;
  /** false when the tokenizer is the closest public one, not the model's own (shown as "≈"). */
  readonly exact: boolean;
  readonly chatFraming: ChatFraming | null;
  readonly countApi: CountApi | null;
  readonly sources: Readonly<Record<string, string>>;
}

export const DEFAULT_TARGET_ID = 'llama-3.1-8b';

type Validation = { readonly preset: TargetPreset } | { readonly error: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

const ARCHITECTURE_FIELDS = ['layers', 'attentionHeads', 'kvHeads', 'headDim', 'hiddenSize', 'parameters'] as const;

/**
 * Checks one preset. The error is one line naming the preset and the field, e.g.
 * `preset "my-model": "architecture.kvHeads" must be a positive integer that divides attentionHeads`.
 */
export function validatePreset(value: unknown, index = 0): Validation {
  if (!isRecord(value)) return { error: `preset #${index + 1}: must be an object` };
  const label = typeof value.id === 'string' && value.id !== '' ? `preset "${value.id}"` : `preset #${index + 1}`;
  const fail = (field: string, rule: string): Validation => ({ error: `${label}: "${field}" ${rule}` });
  if (typeof value.id !== 'string' || !/^[\w.:-]+$/.test(value.id))
    return fail('id', 'must be a non-empty string of letters, digits, ".", "-", "_" or ":"');
  const name = value.name === undefined ? value.id : value.name;
  if (typeof name !== 'string' || name === '') return fail('name', 'must be a non-empty string');
  if (typeof value.tokenizer !== 'string' || !(TOKENIZER_IDS as readonly string[]).includes(value.tokenizer)) {
    return fail('tokenizer', `must be one of ${TOKENIZER_IDS.join(', ')}`);
  }
  if (!positiveInteger(value.contextWindow)) return fail('contextWindow', 'must be a positive integer (tokens)');
  let architecture: Architecture | null = null;
  if (value.architecture !== undefined && value.architecture !== null) {
    const arch = value.architecture;
    if (!isRecord(arch)) return fail('architecture', 'must be an object or null');
    for (const field of ARCHITECTURE_FIELDS) {
      if (!positiveInteger(arch[field])) return fail(`architecture.${field}`, 'must be a positive integer');
    }
    const heads = arch.attentionHeads as number;
    const kvHeads = arch.kvHeads as number;
    if (kvHeads > heads || heads % kvHeads !== 0)
      return fail('architecture.kvHeads', 'must divide architecture.attentionHeads');
    if (arch.slidingWindow !== undefined && !positiveInteger(arch.slidingWindow)) {
      return fail('architecture.slidingWindow', 'must be a positive integer (tokens) when given');
    }
    const layers = arch.layers as number;
    if (
      arch.slidingWindowLayers !== undefined &&
      (!positiveInteger(arch.slidingWindowLayers) ||
        arch.slidingWindowLayers > layers ||
        arch.slidingWindow === undefined)
    ) {
      return fail('architecture.slidingWindowLayers', 'must be a positive integer up to layers, with slidingWindow');
    }
    if (
      arch.activeParameters !== undefined &&
      (!positiveInteger(arch.activeParameters) || arch.activeParameters > (arch.parameters as number))
    ) {
      return fail('architecture.activeParameters', 'must be a positive integer up to parameters');
    }
    let mla: Architecture['mla'];
    if (arch.mla !== undefined) {
      const m = arch.mla;
      if (
        !isRecord(m) ||
        !positiveInteger(m.kvLoraRank) ||
        !positiveInteger(m.qkRopeHeadDim) ||
        !positiveInteger(m.valueHeadDim)
      ) {
        return fail('architecture.mla', 'must give kvLoraRank, qkRopeHeadDim and valueHeadDim as positive integers');
      }
      mla = { kvLoraRank: m.kvLoraRank, qkRopeHeadDim: m.qkRopeHeadDim, valueHeadDim: m.valueHeadDim };
    }
    architecture = {
      layers,
      attentionHeads: heads,
      kvHeads,
      headDim: arch.headDim as number,
      hiddenSize: arch.hiddenSize as number,
      parameters: arch.parameters as number,
      ...(arch.slidingWindow === undefined ? {} : { slidingWindow: arch.slidingWindow as number }),
      ...(arch.slidingWindowLayers === undefined ? {} : { slidingWindowLayers: arch.slidingWindowLayers as number }),
      ...(arch.activeParameters === undefined ? {} : { activeParameters: arch.activeParameters as number }),
      ...(mla ? { mla } : {}),
    };
  }
  const kvDtype = value.kvDtype ?? (architecture ? 'bf16' : null);
  if (kvDtype !== null && (typeof kvDtype !== 'string' || !(kvDtype in KV_DTYPE_BYTES))) {
    return fail('kvDtype', `must be one of ${Object.keys(KV_DTYPE_BYTES).join(', ')}`);
  }
  const price = value.pricePerMillionInputTokens ?? null;
  if (price !== null && (typeof price !== 'number' || !Number.isFinite(price) || price < 0)) {
    return fail('pricePerMillionInputTokens', 'must be a non-negative number or null');
  }
  const tiers = value.priceTiers ?? [];
  if (
    !Array.isArray(tiers) ||
    tiers.some(
      (tier) =>
        !isRecord(tier) ||
        !positiveInteger(tier.aboveTokens) ||
        typeof tier.pricePerMillionInputTokens !== 'number' ||
        !(tier.pricePerMillionInputTokens >= 0),
    )
  ) {
    return fail('priceTiers', 'must be a list of { aboveTokens, pricePerMillionInputTokens }');
  }
  const priceTiers = (tiers as PriceTier[])
    .map((tier) => ({ aboveTokens: tier.aboveTokens, pricePerMillionInputTokens: tier.pricePerMillionInputTokens }))
    .sort((a, b) => a.aboveTokens - b.aboveTokens);
  if (priceTiers.length > 0 && price === null)
    return fail('priceTiers', 'needs pricePerMillionInputTokens (the base tier)');
  const provider = value.provider ?? 'Custom';
  if (typeof provider !== 'string' || provider === '') return fail('provider', 'must be a non-empty string');
  const exact = value.exact ?? true;
  if (typeof exact !== 'boolean') return fail('exact', 'must be true or false');
  let chatFraming: ChatFraming | null = null;
  const framing = value.chatFraming;
  if (framing !== undefined && framing !== null) {
    if (
      isRecord(framing) &&
      typeof framing.tokens === 'number' &&
      Number.isInteger(framing.tokens) &&
      framing.tokens >= 0
    )
      chatFraming = { tokens: framing.tokens };
    else if (isRecord(framing) && typeof framing.prefix === 'string' && typeof framing.suffix === 'string')
      chatFraming = { prefix: framing.prefix, suffix: framing.suffix };
    else return fail('chatFraming', 'must be { tokens } or { prefix, suffix }');
  }
  let countApi: CountApi | null = null;
  const api = value.countApi;
  if (api !== undefined && api !== null) {
    if (
      !isRecord(api) ||
      typeof api.provider !== 'string' ||
      !(COUNT_API_PROVIDERS as readonly string[]).includes(api.provider) ||
      typeof api.model !== 'string' ||
      !/^[\w.:-]+$/.test(api.model)
    ) {
      return fail('countApi', `must be { provider: ${COUNT_API_PROVIDERS.join(' | ')}, model }`);
    }
    countApi = { provider: api.provider as CountApiProvider, model: api.model };
  }
  const sources = value.sources ?? {};
  if (!isRecord(sources) || Object.values(sources).some((source) => typeof source !== 'string')) {
    return fail('sources', 'must map field names to strings');
  }
  return {
    preset: {
      id: value.id,
      name,
      tokenizer: value.tokenizer as TokenizerId,
      contextWindow: value.contextWindow,
      architecture,
      kvDtype: kvDtype as KvDtype | null,
      pricePerMillionInputTokens: price,
      priceTiers,
      provider,
      exact,
      chatFraming,
      countApi,
      sources: sources as Record<string, string>,
    },
  };
}

function loadBuiltIns(): readonly TargetPreset[] {
  return builtInFile.presets.map((raw, index) => {
    const result = validatePreset(raw, index);
    if ('error' in result) throw new Error(`presets.json: ${result.error}`);
    return result.preset;
  });
}

export const BUILT_IN_PRESETS: readonly TargetPreset[] = loadBuiltIns();

export interface PresetCatalog {
  readonly presets: readonly TargetPreset[];
  /** One line per rejected user preset. */
  readonly errors: readonly string[];
}

/** Built-ins plus valid user presets; a user preset with a built-in id replaces it. */
export function buildCatalog(userPresets: unknown): PresetCatalog {
  const errors: string[] = [];
  const byId = new Map(BUILT_IN_PRESETS.map((preset) => [preset.id, preset]));
  if (userPresets !== undefined && userPresets !== null) {
    if (!Array.isArray(userPresets)) {
      errors.push('promptAttention.cost.presets must be an array of presets');
    } else {
      userPresets.forEach((raw, index) => {
        const result = validatePreset(raw, index);
        if ('error' in result) errors.push(result.error);
        else byId.set(result.preset.id, result.preset);
      });
    }
  }
  return { presets: [...byId.values()], errors };
}

export function findPreset(catalog: PresetCatalog, id: string): TargetPreset | undefined {
  return catalog.presets.find((preset) => preset.id === id);
}

/** "unknown target "x"; valid ids: a, b, c" */
export function unknownTargetMessage(catalog: PresetCatalog, id: string): string {
  return `unknown target "${id}"; valid ids: ${catalog.presets.map((preset) => preset.id).join(', ')}`;
}
