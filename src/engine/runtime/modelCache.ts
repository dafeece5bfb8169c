// Keeps the most recently used model warm (one at a time, to bound memory) and resolves/loads on demand.
// A warm model is reused only while its folder's files are unchanged (size, mtime, inode): a folder
// re-exported or checked out between two inspections is loaded again.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { ExecutionProviderSetting, ProgressUpdate } from '../../shared/protocol';
import { LoadedModel } from './loadedModel';
import type { ModelDtype } from './modelFiles';
import { resolveModel } from './modelSource';

export interface ModelCacheOptions {
  readonly modelsDir: string;
  readonly cacheDir: string;
  readonly hubEndpoint?: string;
  /** The Hub token from the extension's SecretStorage (never logged). */
  readonly hubToken?: string;
  /** The machine's memory in bytes, for a 16-bit checkpoint's fp32-or-8-bit choice (default os.totalmem). */
  readonly totalMemory?: () => number;
}

export class ModelCache {
  private current: { key: string; model: Promise<LoadedModel>; stamp: string } | null = null;

  /** The Hub download in progress, if any, so a cancelled inspection can stop it. */
  private download: AbortController | null = null;

  constructor(private readonly options: ModelCacheOptions) {}

  /** Stops the Hub download in progress; its files resume next time, and its load fails with one line. */
  abortDownload(): void {
    this.download?.abort();
  }

  async get(
    setting: string,
    provider: ExecutionProviderSetting,
    onProgress: (progress: ProgressUpdate) => void,
    dtype: ModelDtype = 'auto',
  ): Promise<LoadedModel> {
    const key = `${setting}\0${provider}\0${dtype}`;
    const warm = this.current;
    if (warm?.key === key) {
      const loaded = await warm.model.catch(() => null);
      if (
        !loaded ||
        (await modelStamp(loaded.folder, loaded.origin.format === 'gguf' ? loaded.file.file : undefined)) === warm.stamp
      )
        return warm.model;
    }
    await this.release();
    // load() reports the stamp after resolving the folder, by which time `entry` exists.
    const entry: { key: string; model: Promise<LoadedModel>; stamp: string } = {
      key,
      model: this.load(setting, provider, onProgress, (stamp) => (entry.stamp = stamp), dtype),
      stamp: '',
    };
    const model = entry.model;
    this.current = entry;
    model.catch(() => {
      if (this.current?.model === model) this.current = null;
    });
    return model;
  }

  private async load(
    setting: string,
    provider: ExecutionProviderSetting,
    onProgress: (progress: ProgressUpdate) => void,
    onStamp: (stamp: string) => void,
    dtype: ModelDtype,
  ): Promise<LoadedModel> {
    const gpu = provider !== 'cpu' && provider !== 'auto';
    const abort = new AbortController();
    this.download = abort;
    const location = await resolveModel(setting, {
      signal: abort.signal,
      dtype,
      ...(gpu ? { gpu } : {}),
      modelsDir: this.options.modelsDir,
      storageDir: this.options.cacheDir,
      endpoint: this.options.hubEndpoint,
      ...(this.options.hubToken ? { token: this.options.hubToken } : {}),
      onProgress: ({ file, loadedBytes, totalBytes }) =>
        onProgress({
          stage: 'download',
          model: setting,
          file,
          loadedBytes,
          ...(totalBytes ? { totalBytes, fraction: Math.min(1, loadedBytes / totalBytes) } : {}),
        }),
    });
    if (this.download === abort) this.download = null;
    onProgress({ stage: 'load', model: location.id });
    onStamp(await modelStamp(location.folder, location.gguf));
    const options = {
      id: location.id,
      cacheDir: this.options.cacheDir,
      provider,
      dtype,
      embedded: setting.trim() === '',
      ...(this.options.totalMemory ? { totalMemory: this.options.totalMemory } : {}),
      onPreparing: (fraction?: number) =>
        onProgress({ stage: 'prepare', model: location.id, ...(fraction !== undefined ? { fraction } : {}) }),
    };
    if (location.gguf) return LoadedModel.loadGguf(location.gguf, options);
    if (await isCheckpoint(location.folder)) return LoadedModel.loadSafetensors(location.folder, options);
    return LoadedModel.load(location.folder, options);
  }

  async release(): Promise<void> {
    const previous = this.current;
    this.current = null;
    if (previous) await (await previous.model.catch(() => null))?.dispose();
  }
}

const STAMPED_FILES = [
  'config.json',
  'genai_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'model.safetensors',
  'model.safetensors.index.json',
];

/** The graphs and their external data, in the folder and onnx/: whichever dtype runs, its files are stamped. */
async function onnxFiles(folder: string): Promise<string[]> {
  const lists = await Promise.all(
    ['', 'onnx'].map(async (sub) =>
      (await fs.readdir(path.join(folder, sub)).catch(() => [] as string[]))
        .filter((n) => n.includes('.onnx'))
        .map((n) => (sub ? `${sub}/${n}` : n)),
    ),
  );
  return lists.flat().sort();
}

/** A Hugging Face checkpoint: safetensors weights and no ONNX graph to run. */
async function isCheckpoint(folder: string): Promise<boolean> {
  const names = await fs.readdir(folder).catch(() => [] as string[]);
  const safetensors = names.includes('model.safetensors') || names.includes('model.safetensors.index.json');
  return safetensors && (await onnxFiles(folder)).length === 0;
}

/** A GGUF file's size, mtime and inode; else the folder's files (folderStamp). */
async function modelStamp(folder: string, gguf: string | undefined): Promise<string> {
  if (!gguf) return folderStamp(folder);
  return fs.stat(gguf).then(
    (s) => `${gguf}:${s.size}:${s.mtimeMs}:${s.ino}`,
    () => '-',
  );
}

/** Size, mtime and inode of the files a model is loaded from ('-' for a missing one). */
async function folderStamp(folder: string): Promise<string> {
  const parts = await Promise.all(
    [...STAMPED_FILES, ...(await onnxFiles(folder))].map((file) =>
      fs.stat(path.join(folder, file)).then(
        (s) => `${file}:${s.size}:${s.mtimeMs}:${s.ino}`,
        () => '-',
      ),
    ),
  );
  return parts.join('|');
}
