// The promptAttention.* settings the inspector reads, with bounds; the defaults come from package.json. The
// getter keeps this free of `vscode` so it can be tested.
import type { ExecutionProviderSetting } from '../shared/protocol';
import { isModelDtype, type ModelDtype, type TokenWindow } from '../shared/inspectContract';
import { numberDefault } from '../shared/settingDefaults';

export interface InspectorSettings {
  readonly model: string;
  readonly modelDtype: ModelDtype;
  readonly provider: ExecutionProviderSetting;
  readonly maxCharacters: number;
  readonly maxTokens: number;
  readonly window: TokenWindow;
  readonly idleTimeoutMs: number;
  readonly hubEndpoint: string | undefined;
}

const providers: readonly ExecutionProviderSetting[] = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'];

function intIn(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max
    ? Math.floor(value)
    : fallback;
}

/** `get(key)` returns `promptAttention.<key>` (undefined when unset). */
export function readInspectorSettings(get: (key: string) => unknown): InspectorSettings {
  const provider = get('executionProvider');
  const model = get('model');
  const hub = get('hubEndpoint');
  return {
    model: typeof model === 'string' ? model.trim() : '',
    modelDtype: isModelDtype(get('modelDtype')) ? (get('modelDtype') as ModelDtype) : 'auto',
    provider: providers.includes(provider as ExecutionProviderSetting)
      ? (provider as ExecutionProviderSetting)
      : 'auto',
    maxCharacters: intIn(get('maxCharacters'), numberDefault('maxCharacters'), 1, 10_000_000),
    maxTokens: intIn(get('maxTokens'), numberDefault('maxTokens'), 0, 1_000_000),
    window: get('tokenWindow') === 'end' ? 'end' : 'start',
    idleTimeoutMs: intIn(get('idleTimeoutSeconds'), numberDefault('idleTimeoutSeconds'), 5, 86_400) * 1000,
    hubEndpoint: typeof hub === 'string' && /^https?:\/\//.test(hub.trim()) ? hub.trim() : undefined,
  };
}
