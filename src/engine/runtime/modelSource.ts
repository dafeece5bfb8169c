// Resolves the `promptAttention.model` setting to a model folder: '' → the embedded default, a path →
// that folder, a Hub id → the downloaded copy in storage (downloaded on first use). A `.gguf` file, a folder
// holding one, or `ollama:<name>[:<tag>]` resolves to that GGUF file (`gguf`), in the folder that holds it.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineError } from '../engineError';
import type { DownloadOptions } from './hubDownload';
import { ensureHubModel, isHubId } from './hubDownload';
import { resolveGguf } from './ggufLocation';
import type { StoreEnv } from './ollamaStore';
import { defaultStoreEnv } from './ollamaStore';

export const DEFAULT_MODEL_NAME = 'pa-mini-llama';

export interface ModelLocation {
  /** What the result calls the model: the folder name, or the Hub id. */
  readonly id: string;
  readonly folder: string;
  /** The GGUF file to load, when the setting names one (then `folder` is the folder that holds it). */
  readonly gguf?: string;
}

export interface ResolveOptions extends DownloadOptions {
  /** Folder holding the embedded default model. */
  readonly modelsDir: string;
  /** Where Hub models are downloaded (the extension's global storage, or the CLI cache). */
  readonly storageDir: string;
  /** Where Ollama's store is looked for (default: the process environment and home folder). */
  readonly store?: StoreEnv;
}

function looksLikePath(value: string): boolean {
  return (
    path.isAbsolute(value) ||
    value.startsWith('.') ||
    value.startsWith('~') ||
    /^[A-Za-z]:[\\/]/.test(value) ||
    value.includes('\\')
  );
}

async function isDirectory(folder: string): Promise<boolean> {
  try {
    return (await fs.stat(folder)).isDirectory();
  } catch {
    return false;
  }
}

export async function resolveModel(setting: string, options: ResolveOptions): Promise<ModelLocation> {
  const value = setting.trim();
  if (!value) return { id: DEFAULT_MODEL_NAME, folder: path.join(options.modelsDir, DEFAULT_MODEL_NAME) };
  const expanded = value.startsWith('~') ? path.join(os.homedir(), value.slice(1)) : value;
  const pathLike = looksLikePath(value) || value.toLowerCase().endsWith('.gguf') || (await isDirectory(expanded));
  const gguf = await resolveGguf(value, pathLike ? path.resolve(expanded) : null, options.store ?? defaultStoreEnv());
  if (gguf) return { id: ggufModelId(value, gguf), folder: path.dirname(gguf), gguf };
  // An existing relative folder (e.g. "models/foo") wins over a Hub id with the same spelling.
  if (pathLike) {
    const folder = path.resolve(expanded);
    if (!(await isDirectory(folder))) throw new EngineError(`Model folder not found: ${folder}`);
    return { id: folderModelId(folder), folder };
  }
  if (!isHubId(value))
    throw new EngineError(
      `Model "${value}" is neither a folder nor a Hub model id (owner/name), a .gguf file or ollama:<name>[:<tag>].`,
    );
  return { id: value, folder: await ensureHubModel(value, options.storageDir, options) };
}

/** What the result calls a GGUF model: the Ollama name as set, else the file name without `.gguf`. */
function ggufModelId(setting: string, file: string): string {
  return setting.startsWith('ollama:') ? setting : path.basename(file).replace(/\.gguf$/i, '');
}

/** A folder's name, or `org/name` for a snapshot of the Hugging Face cache (`models--org--name/snapshots/<rev>`). */
export function folderModelId(folder: string): string {
  const parts = folder.split(path.sep);
  const at = parts.length - 3;
  if (at >= 0 && parts[at + 1] === 'snapshots' && parts[at].startsWith('models--'))
    return parts[at].slice('models--'.length).replace(/--/g, '/');
  return path.basename(folder);
}
