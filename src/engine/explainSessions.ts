// The two sessions an attribution needs, kept warm between requests: the tapped model from the ModelCache
// (attention, tokenizer) and a plain LogitsSession of the same file (log-probabilities, generation). The
// logits session is opened once per loaded model and released with it or when another model is asked for.
import type { ExecutionProviderSetting, ProgressUpdate } from '../shared/protocol';
import { attributionModel } from './analysis/attributionModel';
import type { AttributionModel } from './analysis/attribution';
import { isModelDtype, type ModelDtype } from './runtime/modelFiles';
import type { LoadedModel } from './runtime/loadedModel';
import { LogitsSession } from './runtime/logitsSession';
import type { ModelCache } from './runtime/modelCache';
import { WarmSlot } from './runtime/warmSlot';

export interface ExplainSession {
  readonly loaded: LoadedModel;
  readonly logits: LogitsSession;
  readonly model: AttributionModel;
}

export class ExplainSessions {
  private readonly slot = new WarmSlot<LoadedModel, ExplainSession>((s) => s.logits.dispose());

  constructor(private readonly models: ModelCache) {}

  async get(
    choice: { readonly model: string; readonly provider: ExecutionProviderSetting; readonly dtype?: string },
    onProgress: (progress: ProgressUpdate) => void = () => undefined,
  ): Promise<ExplainSession> {
    const dtype: ModelDtype = choice.dtype !== undefined && isModelDtype(choice.dtype) ? choice.dtype : 'auto';
    const loaded = await this.models.get(choice.model, choice.provider, onProgress, dtype);
    return this.slot.get(loaded, async () => {
      const logits = await LogitsSession.open(loaded.folder, loaded.config, { provider: choice.provider, dtype });
      return { loaded, logits, model: attributionModel(loaded, logits) };
    });
  }

  /** Releases the logits session (the ModelCache owns the tapped one). */
  release(): Promise<void> {
    return this.slot.release();
  }
}
