// Keeps the most recently used model warm (one at a time, to bound memory) and resolves/loads on demand.
import type { ExecutionProviderSetting, ProgressUpdate } from '../../shared/protocol';
import { LoadedModel } from './loadedModel';
import { resolveModel } from './modelSource';

export interface ModelCacheOptions {
  readonly modelsDir: string;
  readonly cacheDir: string;
  readonly hubEndpoint?: string;
}

export class ModelCache {
  private current: { key: string; model: Promise<LoadedModel> } | null = null;

  constructor(private readonly options: ModelCacheOptions) {}

  async get(setting: string, provider: ExecutionProviderSetting, onProgress: (progress: ProgressUpdate) => void): Promise<LoadedModel> {
    const key = `${setting}\0${provider}`;
    if (this.current?.key === key) return this.current.model;
    await this.release();
    const model = this.load(setting, provider, onProgress);
    this.current = { key, model };
    model.catch(() => {
      if (this.current?.model === model) this.current = null;
    });
    return model;
  }

  private async load(setting: string, provider: ExecutionProviderSetting, onProgress: (progress: ProgressUpdate) => void): Promise<LoadedModel> {
    const location = await resolveModel(setting, {
      modelsDir: this.options.modelsDir,
      storageDir: this.options.cacheDir,
      endpoint: this.options.hubEndpoint,
      onProgress: ({ file, loadedBytes, totalBytes }) =>
        onProgress({
          stage: 'download',
          model: setting,
          file,
          loadedBytes,
          ...(totalBytes ? { totalBytes, fraction: Math.min(1, loadedBytes / totalBytes) } : {}),
        }),
    });
    onProgress({ stage: 'load', model: location.id });
    return LoadedModel.load(location.folder, { id: location.id, cacheDir: this.options.cacheDir, provider });
  }

  async release(): Promise<void> {
    const previous = this.current;
    this.current = null;
    if (previous) await (await previous.model.catch(() => null))?.dispose();
  }
}
