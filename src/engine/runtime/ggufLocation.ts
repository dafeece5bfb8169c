// Which GGUF file a model setting names, for every spelling that is not a Hub id: a `.gguf` file, a folder
// that holds one (and no ONNX or Hugging Face checkpoint: those folders load as before), or
// `ollama:<name>[:<tag>]`. The result is a plain `.gguf` path; loading it is the GGUF loader's job.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { EngineError } from '../engineError';
import type { StoreEnv } from './ollamaStore';
import { OLLAMA_PREFIX, resolveOllamaModel } from './ollamaStore';

const SHARD = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** A GGUF file a folder may hold that is not a language model (a vision projector) or a later shard. */
function isModelGguf(name: string): boolean {
  if (!name.toLowerCase().endsWith('.gguf') || /^mmproj/i.test(name)) return false;
  const shard = SHARD.exec(name);
  return !shard || Number(shard[1]) === 1;
}

/** The model GGUF files directly in `folder`, sorted. */
export async function ggufFilesIn(folder: string): Promise<string[]> {
  const entries = await fs.readdir(folder, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && isModelGguf(e.name))
    .map((e) => e.name)
    .sort();
}

async function holdsOtherModel(folder: string): Promise<boolean> {
  const names = [
    ...(await fs.readdir(folder).catch(() => [] as string[])),
    ...(await fs.readdir(path.join(folder, 'onnx')).catch(() => [] as string[])),
  ];
  return names.some((n) => n === 'config.json' || n === 'genai_config.json' || n.endsWith('.onnx'));
}

/** The `.gguf` file `target` names (the file, or the one in the folder), or null when it names no GGUF. */
export async function ggufInPath(target: string): Promise<string | null> {
  const stat = await fs.stat(target).catch(() => null);
  if (!stat) return target.toLowerCase().endsWith('.gguf') ? missing(target) : null;
  if (stat.isFile()) return target.toLowerCase().endsWith('.gguf') ? target : null;
  if (!stat.isDirectory() || (await holdsOtherModel(target))) return null;
  const files = await ggufFilesIn(target);
  if (files.length === 0) return null;
  if (files.length > 1)
    throw new EngineError(`${target} holds several GGUF files (${files.join(', ')}); set the model to one of them.`);
  return path.join(target, files[0]);
}

function missing(file: string): never {
  throw new EngineError(`GGUF file not found: ${file}`);
}

export function isOllamaSetting(value: string): boolean {
  return value.startsWith(OLLAMA_PREFIX);
}

/** `ollama:…` → its blob; a path → ggufInPath. Null when the value names no GGUF model. */
export async function resolveGguf(value: string, resolvedPath: string | null, store: StoreEnv): Promise<string | null> {
  if (isOllamaSetting(value)) return resolveOllamaModel(value, store);
  return resolvedPath === null ? null : ggufInPath(resolvedPath);
}
