// The models this machine already has, for Choose Model… and `prompt-attention models`: the embedded model;
// every GGUF in Ollama's stores, LM Studio's (`~/.lmstudio/models`, `~/.cache/lm-studio/models`) and
// llama.cpp's cache (`$LLAMA_CACHE`, `~/.cache/llama.cpp`); the ONNX, safetensors and GGUF snapshots in the
// Hugging Face cache (`$HF_HUB_CACHE`, `$HF_HOME/hub`, `~/.cache/huggingface/hub`); then a few Hub ids to
// download. GGUF headers are read with @huggingface/gguf (metadata and tensor infos, no weights); Hugging
// Face folders by their config.json. A store that is missing or unreadable is skipped.
import { GGMLFileQuantizationType, GGMLQuantizationType, gguf } from '@huggingface/gguf';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ggufFilesIn } from './ggufLocation';
import type { StoreEnv } from './ollamaStore';
import { listOllamaModels, OLLAMA_PREFIX } from './ollamaStore';

export const MODEL_SOURCES = ['embedded', 'ollama', 'lmstudio', 'llamacpp', 'hf-cache', 'hub'] as const;
export type DiscoveredSource = (typeof MODEL_SOURCES)[number];
export type DiscoveredFormat = 'onnx' | 'gguf' | 'safetensors';

export interface DiscoveredModel {
  readonly name: string;
  readonly source: DiscoveredSource;
  /** The value for `--model` / `promptAttention.model` ('' is the embedded model). */
  readonly model: string;
  readonly format: DiscoveredFormat;
  readonly architecture: string | null;
  readonly bytes: number | null;
  /** `Q4_K_M`, `fp32`, …; null when unknown. */
  readonly quant: string | null;
  /** The context length the model was trained for, when its files say. */
  readonly context: number | null;
}

/** ONNX models on the Hub that load as they are (downloaded on first use). */
export const RECOMMENDED_HUB_MODELS: readonly DiscoveredModel[] = [
  hubEntry('onnx-community/Qwen2.5-0.5B-Instruct', 'qwen2', 32768),
  hubEntry('HuggingFaceTB/SmolLM2-135M-Instruct', 'llama', 8192),
  hubEntry('onnx-community/Llama-3.2-1B-Instruct', 'llama', 131072),
];

function hubEntry(id: string, architecture: string, context: number): DiscoveredModel {
  return { name: id, source: 'hub', model: id, format: 'onnx', architecture, bytes: null, quant: null, context };
}

export interface DiscoveryOptions {
  readonly store: StoreEnv;
  /** The embedded model's folder. */
  readonly embeddedFolder: string;
  /** Called for a file or folder that could not be read (it is left out of the list). */
  readonly onSkip?: (where: string, reason: unknown) => void;
}

interface GgufFacts {
  readonly architecture: string | null;
  readonly quant: string | null;
  readonly context: number | null;
}

/** The most common weight type of the matrices, when the file does not state its type. */
function dominantType(tensors: readonly { shape: readonly (number | bigint)[]; dtype: number }[]): string | null {
  const counts = new Map<number, number>();
  for (const t of tensors) if (t.shape.length >= 2) counts.set(t.dtype, (counts.get(t.dtype) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  return top ? (GGMLQuantizationType[top[0]] ?? `type ${top[0]}`) : null;
}

/** Facts already read, by file, size and mtime: a header with a large vocabulary takes most of a second. */
const factsCache = new Map<string, GgufFacts>();

/** Architecture, quantization and context of a GGUF file, from its header. */
export async function readGgufFacts(file: string): Promise<GgufFacts> {
  const stat = await fs.stat(file);
  const key = `${file}\0${stat.size}\0${stat.mtimeMs}`;
  const known = factsCache.get(key);
  if (known) return known;
  const facts = await parseGgufFacts(file);
  factsCache.set(key, facts);
  return facts;
}

async function parseGgufFacts(file: string): Promise<GgufFacts> {
  const { metadata, tensorInfos } = await gguf(file, { allowLocalFile: true });
  const record = metadata as unknown as Record<string, unknown>;
  const architecture = typeof record['general.architecture'] === 'string' ? record['general.architecture'] : null;
  const fileType = record['general.file_type'];
  const quant =
    typeof fileType === 'number' && GGMLFileQuantizationType[fileType]
      ? GGMLFileQuantizationType[fileType]
      : dominantType(tensorInfos);
  const context = architecture === null ? undefined : record[`${architecture}.context_length`];
  return {
    architecture,
    quant,
    context: typeof context === 'number' || typeof context === 'bigint' ? Number(context) : null,
  };
}

async function sizeOf(file: string): Promise<number | null> {
  return fs.stat(file).then(
    (s) => s.size,
    () => null,
  );
}

async function ggufEntry(
  file: string,
  name: string,
  source: DiscoveredSource,
  model: string,
  options: DiscoveryOptions,
): Promise<DiscoveredModel | null> {
  try {
    const facts = await readGgufFacts(file);
    return { name, source, model, format: 'gguf', ...facts, bytes: await sizeOf(file) };
  } catch (error) {
    options.onSkip?.(file, error);
    return null;
  }
}

async function subfolders(folder: string): Promise<string[]> {
  const entries = await fs.readdir(folder, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

async function readJson(file: string): Promise<Record<string, unknown> | null> {
  try {
    const value: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function numberOr(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

const unique = (list: readonly string[]): string[] => [...new Set(list.map((p) => path.resolve(p)))];

function lmStudioRoots(store: StoreEnv): string[] {
  return unique([path.join(store.home, '.lmstudio', 'models'), path.join(store.home, '.cache', 'lm-studio', 'models')]);
}

function llamaCppRoots(store: StoreEnv): string[] {
  return unique([store.env.LLAMA_CACHE, path.join(store.home, '.cache', 'llama.cpp')].filter(isSet));
}

function hfCacheRoots(store: StoreEnv): string[] {
  const { HF_HUB_CACHE, HF_HOME } = store.env;
  if (isSet(HF_HUB_CACHE)) return unique([HF_HUB_CACHE]);
  if (isSet(HF_HOME)) return unique([path.join(HF_HOME, 'hub')]);
  return unique([path.join(store.home, '.cache', 'huggingface', 'hub')]);
}

function isSet(value: string | undefined): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

async function embedded(options: DiscoveryOptions): Promise<DiscoveredModel> {
  const config = await readJson(path.join(options.embeddedFolder, 'config.json'));
  const onnx = await onnxBytes(options.embeddedFolder);
  return {
    name: `${path.basename(options.embeddedFolder)} (embedded)`,
    source: 'embedded',
    model: '',
    format: 'onnx',
    architecture: typeof config?.model_type === 'string' ? config.model_type : null,
    bytes: onnx,
    quant: 'fp32',
    context: numberOr(config?.max_position_embeddings),
  };
}

/** Bytes of the ONNX graphs and their data in a folder (and onnx/), or null when it has none. */
async function onnxBytes(folder: string): Promise<number | null> {
  let total = 0;
  let found = false;
  for (const sub of ['', 'onnx']) {
    for (const name of await fs.readdir(path.join(folder, sub)).catch(() => [] as string[])) {
      if (!name.includes('.onnx')) continue;
      found = true;
      total += (await sizeOf(path.join(folder, sub, name))) ?? 0;
    }
  }
  return found ? total : null;
}

async function ollama(options: DiscoveryOptions): Promise<DiscoveredModel[]> {
  const models = await listOllamaModels(options.store);
  const entries = await Promise.all(
    models.map((m) => ggufEntry(m.file, m.name, 'ollama', `${OLLAMA_PREFIX}${m.name}`, options)),
  );
  return entries.filter((e): e is DiscoveredModel => e !== null);
}

/** LM Studio keeps `<publisher>/<repo>/*.gguf`. */
async function lmStudio(options: DiscoveryOptions): Promise<DiscoveredModel[]> {
  const out: DiscoveredModel[] = [];
  for (const root of lmStudioRoots(options.store))
    for (const publisher of await subfolders(root))
      for (const repo of await subfolders(path.join(root, publisher))) {
        const folder = path.join(root, publisher, repo);
        for (const file of await ggufFilesIn(folder)) {
          const full = path.join(folder, file);
          const entry = await ggufEntry(
            full,
            `${publisher}/${file.replace(/\.gguf$/i, '')}`,
            'lmstudio',
            full,
            options,
          );
          if (entry) out.push(entry);
        }
      }
  return out;
}

async function llamaCpp(options: DiscoveryOptions): Promise<DiscoveredModel[]> {
  const out: DiscoveredModel[] = [];
  for (const root of llamaCppRoots(options.store))
    for (const file of await ggufFilesIn(root)) {
      const full = path.join(root, file);
      const entry = await ggufEntry(full, file.replace(/\.gguf$/i, ''), 'llamacpp', full, options);
      if (entry) out.push(entry);
    }
  return out;
}

/** The snapshot `refs/main` points at, else the newest one. */
async function currentSnapshot(repo: string): Promise<string | null> {
  const ref = await fs.readFile(path.join(repo, 'refs', 'main'), 'utf8').catch(() => null);
  const snapshots = path.join(repo, 'snapshots');
  if (ref?.trim() && (await subfolders(snapshots)).includes(ref.trim())) return path.join(snapshots, ref.trim());
  const all = await Promise.all(
    (await subfolders(snapshots)).map(async (s) => ({
      s,
      t: (await fs.stat(path.join(snapshots, s)).catch(() => null))?.mtimeMs ?? 0,
    })),
  );
  const newest = all.sort((a, b) => b.t - a.t)[0];
  return newest ? path.join(snapshots, newest.s) : null;
}

async function safetensorsBytes(folder: string): Promise<number | null> {
  const names = (await fs.readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith('.safetensors'));
  if (names.length === 0) return null;
  let total = 0;
  for (const n of names) total += (await sizeOf(path.join(folder, n))) ?? 0;
  return total;
}

/** `models--<org>--<name>/snapshots/<revision>/`: an ONNX or safetensors folder, and each GGUF in it. */
async function hfCache(options: DiscoveryOptions): Promise<DiscoveredModel[]> {
  const out: DiscoveredModel[] = [];
  for (const root of hfCacheRoots(options.store))
    for (const repo of await subfolders(root)) {
      if (!repo.startsWith('models--')) continue;
      const id = repo.slice('models--'.length).replace(/--/g, '/');
      const snapshot = await currentSnapshot(path.join(root, repo));
      if (!snapshot) continue;
      const config = await readJson(path.join(snapshot, 'config.json'));
      const facts = {
        architecture: typeof config?.model_type === 'string' ? config.model_type : null,
        context: numberOr(config?.max_position_embeddings),
      };
      const onnx = await onnxBytes(snapshot);
      const safetensors = onnx === null ? await safetensorsBytes(snapshot) : null;
      if (onnx !== null || safetensors !== null) {
        const dtype = typeof config?.torch_dtype === 'string' ? config.torch_dtype : null;
        out.push({
          name: id,
          source: 'hf-cache',
          model: snapshot,
          format: onnx !== null ? 'onnx' : 'safetensors',
          ...facts,
          bytes: onnx ?? safetensors,
          quant: onnx !== null ? null : dtype,
        });
      }
      for (const file of await ggufFilesIn(snapshot)) {
        const full = path.join(snapshot, file);
        const entry = await ggufEntry(full, `${id}/${file.replace(/\.gguf$/i, '')}`, 'hf-cache', full, options);
        if (entry) out.push(entry);
      }
    }
  return out;
}

/** Every model found, in the order: embedded, Ollama, LM Studio, llama.cpp, Hugging Face cache, Hub. */
export async function discoverModels(options: DiscoveryOptions): Promise<DiscoveredModel[]> {
  const found = await Promise.all([
    embedded(options).then((e) => [e]),
    ollama(options),
    lmStudio(options),
    llamaCpp(options),
    hfCache(options),
  ]);
  return [...found.flat(), ...RECOMMENDED_HUB_MODELS];
}
