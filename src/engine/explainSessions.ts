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

export interface ExplainSession {
  readonly loaded: LoadedModel;
  readonly logits: LogitsSession;
  readonly model: AttributionModel;
}

export class ExplainSessions {
  private current: { readonly loaded: LoadedModel; readonly session: Promise<ExplainSession> } | null = null;

  constructor(private readonly models: ModelCache) {}

  async get(
    choice: { readonly model: string; readonly provider: ExecutionProviderSetting; readonly dtype?: string },
    onProgress: (progress: ProgressUpdate) => void = () => undefined,
  ): Promise<ExplainSession> {
    const dtype: ModelDtype = choice.dtype !== undefined && isModelDtype(choice.dtype) ? choice.dtype : 'auto';
    const loaded = await this.models.get(choice.model, choice.provider, onProgress, dtype);
    if (this.current?.loaded === loaded) return this.current.session;
    await this.release();
    const session = LogitsSession.open(loaded.folder, loaded.config, { provider: choice.provider, dtype }).then(
      (logits) => ({ loaded, logits, model: attributionModel(loaded, logits) }),
    );
    const entry = { loaded, session };
    this.current = entry;
    session.catch(() => {
      if (this.current === entry) this.current = null;
    });
    return session;
  }

  /** Releases the logits session (the ModelCache owns the tapped one). */
  async release(): Promise<void> {
    const entry = this.current;
    this.current = null;
    const session = await entry?.session.catch(() => null);
    await session?.logits.dispose();
  }
}
