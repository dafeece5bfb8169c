// Ollama's model store, read from the disk (Ollama need not run): `manifests/<host>/<namespace>/<model>/<tag>`
// is JSON whose layer of mediaType `application/vnd.ollama.image.model` names the GGUF blob by digest
// `sha256:<hex>`, stored as `blobs/sha256-<hex>`. The store is `$OLLAMA_MODELS`, else `~/.ollama/models`, and
// the Linux service's `/usr/share/ollama/.ollama/models`. `ollama:<name>[:<tag>]` names a model as `ollama run`
// does: the tag defaults to `latest`, the namespace to `library`, the host to `registry.ollama.ai`.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { firstLine } from '../../shared/errorText';
import { EngineError } from '../engineError';

/** Where the stores are looked for: the environment and the home folder (a fake HOME in tests). */
export interface StoreEnv {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
}

export function defaultStoreEnv(): StoreEnv {
  return { env: process.env, home: os.homedir() };
}

export const OLLAMA_PREFIX = 'ollama:';
const DEFAULT_HOST = 'registry.ollama.ai';
const DEFAULT_NAMESPACE = 'library';
const MODEL_LAYER = 'application/vnd.ollama.image.model';

/** Ollama's model folders that may exist, first the one Ollama itself would use. */
export function ollamaRoots(store: StoreEnv): string[] {
  const roots = [
    store.env.OLLAMA_MODELS,
    path.join(store.home, '.ollama', 'models'),
    '/usr/share/ollama/.ollama/models',
  ].filter((r): r is string => typeof r === 'string' && r.trim() !== '');
  return [...new Set(roots.map((r) => path.resolve(r)))];
}

export interface OllamaModel {
  /** As `ollama list` shows it: `qwen3:0.6b`, `user/model:tag`, `hf.co/org/repo:Q4_K_M`. */
  readonly name: string;
  /** The GGUF blob. */
  readonly file: string;
  readonly bytes: number | null;
}

interface ModelRef {
  readonly host: string;
  readonly namespace: string;
  readonly model: string;
  readonly tag: string;
}

/** `ollama:name[:tag]` (the prefix optional) → its parts; null when it is not a model name. */
export function parseOllamaRef(value: string): ModelRef | null {
  const ref = value.startsWith(OLLAMA_PREFIX) ? value.slice(OLLAMA_PREFIX.length) : value;
  const slash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', slash + 1);
  const name = colon < 0 ? ref : ref.slice(0, colon);
  const tag = colon < 0 ? 'latest' : ref.slice(colon + 1);
  const parts = name.split('/');
  if (!tag || parts.length > 3 || parts.some((p) => !/^[\w.-]+$/.test(p))) return null;
  const [host, namespace, model] =
    parts.length === 3
      ? parts
      : parts.length === 2
        ? [DEFAULT_HOST, parts[0], parts[1]]
        : [DEFAULT_HOST, DEFAULT_NAMESPACE, parts[0]];
  return /^[\w.-]+$/.test(tag) ? { host, namespace, model, tag } : null;
}

function displayName(ref: ModelRef): string {
  const prefix =
    ref.host === DEFAULT_HOST
      ? ref.namespace === DEFAULT_NAMESPACE
        ? ''
        : `${ref.namespace}/`
      : `${ref.host}/${ref.namespace}/`;
  return `${prefix}${ref.model}:${ref.tag}`;
}

async function readDirNames(folder: string): Promise<string[]> {
  try {
    return (await fs.readdir(folder, { withFileTypes: true })).map((d) => d.name);
  } catch {
    return [];
  }
}

/** The GGUF blob a manifest names, or a one-line reason it names none. */
async function blobOf(root: string, manifest: string): Promise<{ file: string; bytes: number } | string> {
  let json: { layers?: { mediaType?: unknown; digest?: unknown; size?: unknown }[] };
  try {
    json = JSON.parse(await fs.readFile(manifest, 'utf8')) as typeof json;
  } catch (error) {
    return `its manifest ${manifest} cannot be read (${firstLine(error)})`;
  }
  const layer = (json.layers ?? []).find((l) => l.mediaType === MODEL_LAYER);
  const digest = typeof layer?.digest === 'string' ? /^sha256:([0-9a-f]{64})$/.exec(layer.digest) : null;
  if (!digest) return `its manifest ${manifest} names no model layer`;
  const file = path.join(root, 'blobs', `sha256-${digest[1]}`);
  try {
    return { file, bytes: (await fs.stat(file)).size };
  } catch {
    return `its blob ${file} is missing`;
  }
}

/** Every model in every store (the first store wins a name found twice). */
export async function listOllamaModels(store: StoreEnv): Promise<OllamaModel[]> {
  const found = new Map<string, OllamaModel>();
  for (const root of ollamaRoots(store)) {
    const manifests = path.join(root, 'manifests');
    for (const host of await readDirNames(manifests))
      for (const namespace of await readDirNames(path.join(manifests, host)))
        for (const model of await readDirNames(path.join(manifests, host, namespace)))
          for (const tag of await readDirNames(path.join(manifests, host, namespace, model))) {
            const name = displayName({ host, namespace, model, tag });
            if (found.has(name)) continue;
            const blob = await blobOf(root, path.join(manifests, host, namespace, model, tag));
            if (typeof blob !== 'string') found.set(name, { name, file: blob.file, bytes: blob.bytes });
          }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** `ollama:<name>[:<tag>]` → its GGUF blob; one line naming what the stores hold when it is not there. */
export async function resolveOllamaModel(value: string, store: StoreEnv): Promise<string> {
  const ref = parseOllamaRef(value);
  if (!ref) throw new EngineError(`"${value}" is not an Ollama model name (ollama:<name>[:<tag>]).`);
  const roots = ollamaRoots(store);
  for (const root of roots) {
    const manifest = path.join(root, 'manifests', ref.host, ref.namespace, ref.model, ref.tag);
    const exists = await fs.stat(manifest).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!exists) continue;
    const blob = await blobOf(root, manifest);
    if (typeof blob === 'string') throw new EngineError(`Ollama model ${displayName(ref)}: ${blob}.`);
    return blob.file;
  }
  const there = (await listOllamaModels(store)).map((m) => m.name);
  throw new EngineError(
    `Ollama model ${displayName(ref)} not found in ${roots.join(', ')}; ` +
      (there.length ? `there: ${there.join(', ')}.` : 'no Ollama models are there (ollama pull <name>).'),
  );
}
