// Which ONNX file of a model folder (or Hub listing) to run: the `promptAttention.modelDtype` setting /
// `--dtype` flag mapped to transformers.js's file names, the layouts people download (onnx/model*.onnx,
// optimum's legacy decoder_model_merged*.onnx, onnxruntime-genai's genai_config.json), and the external
// data files a graph needs (`<file>_data`, `<file>.data`, chunked). The choice is pure over a listing;
// `resolveModelFile` lists a local folder and applies it.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineError } from '../engineError';
import type { ModelDtype } from '../../shared/inspectContract';

// The dtype names are part of the inspection contract; the engine's modules read them from here.
export { isModelDtype, MODEL_DTYPES, type ModelDtype } from '../../shared/inspectContract';
export type ConcreteDtype = Exclude<ModelDtype, 'auto'>;

/** transformers.js's file-name suffixes: onnx/model<suffix>.onnx. */
export const DTYPE_SUFFIX: Readonly<Record<ConcreteDtype, string>> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** One file of a folder or Hub repository: path relative to its root ('/' separators), size when known. */
export interface ListedFile {
  readonly path: string;
  readonly size?: number;
}

export type ModelLayout = 'onnx' | 'merged' | 'genai';

export interface ModelFileChoice {
  /** The graph, relative to the folder root. */
  readonly graph: string;
  /** Its external data files (relative to the root), in chunk order; empty when the weights are inline. */
  readonly externalData: readonly string[];
  /** The dtype the file holds: from its name, or for a genai layout from its folder name ('unknown' if silent). */
  readonly dtype: ConcreteDtype | 'unknown';
  readonly layout: ModelLayout;
  /** Graph plus external data, when the listing gives sizes. */
  readonly bytes: number | null;
  /** One line on why `auto` chose this file (absent for an explicit dtype). */
  readonly reason?: string;
}

export interface ChooseOptions {
  /** `model.decoder.filename` from genai_config.json, relative to the folder that holds that file. */
  readonly genaiGraph?: string;
  /** Where genai_config.json lies in the listing (default: the root). */
  readonly genaiConfig?: string;
  /** A GPU provider was asked for: `auto` then prefers half-precision / 4-bit over 8-bit files. */
  readonly gpu?: boolean;
  /** Memory to plan for (default: os.totalmem()). */
  readonly memoryBytes?: number;
}

/** Full precision "fits comfortably" when its files take at most this share of the machine's memory. */
export const COMFORTABLE_MEMORY_SHARE = 0.25;

/** `auto` without room for fp32: quantized files that run well on CPU, then on GPU providers. */
const CPU_ORDER: readonly ConcreteDtype[] = ['q8', 'q4', 'int8', 'uint8', 'bnb4', 'fp16', 'q4f16'];
const GPU_ORDER: readonly ConcreteDtype[] = ['q4f16', 'fp16', 'q4', 'q8', 'int8', 'uint8', 'bnb4'];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** External data files of `graph` in the listing: `<graph>_data`, `<graph>.data`, and numbered chunks. */
export function externalDataFor(listing: readonly ListedFile[], graph: string): string[] {
  const pattern = new RegExp(`^${escapeRegExp(graph)}(?:_data|\\.data)(?:[._-]?(\\d+))?$`);
  const found = listing
    .map((f) => ({ file: f.path, match: pattern.exec(f.path) }))
    .filter((f): f is { file: string; match: RegExpExecArray } => f.match !== null);
  return found.sort((a, b) => Number(a.match[1] ?? -1) - Number(b.match[1] ?? -1)).map((f) => f.file);
}

function dtypeFromGenaiFolder(graph: string): ConcreteDtype | 'unknown' {
  const where = graph.toLowerCase();
  const int4 = /int4|q4|4bit|rtn|awq/.test(where);
  const fp16 = /fp16|f16|half/.test(where);
  if (int4) return fp16 ? 'q4f16' : 'q4';
  if (fp16) return 'fp16';
  if (/int8|q8/.test(where)) return 'int8';
  if (/fp32|f32/.test(where)) return 'fp32';
  return 'unknown';
}

function choice(
  listing: readonly ListedFile[],
  graph: string,
  dtype: ConcreteDtype | 'unknown',
  layout: ModelLayout,
  reason?: string,
): ModelFileChoice {
  const externalData = externalDataFor(listing, graph);
  const sizes = [graph, ...externalData].map((p) => listing.find((f) => f.path === p)?.size);
  const bytes = sizes.every((s) => typeof s === 'number') ? (sizes as number[]).reduce((a, b) => a + b, 0) : null;
  return { graph, externalData, dtype, layout, bytes, ...(reason ? { reason } : {}) };
}

function candidatesFor(dtype: ConcreteDtype): { graph: string; layout: ModelLayout }[] {
  const suffix = DTYPE_SUFFIX[dtype];
  return [
    { graph: `onnx/model${suffix}.onnx`, layout: 'onnx' },
    { graph: `onnx/decoder_model_merged${suffix}.onnx`, layout: 'merged' },
    { graph: `model${suffix}.onnx`, layout: 'onnx' },
    { graph: `decoder_model_merged${suffix}.onnx`, layout: 'merged' },
  ];
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/**
 * The graph to run for `dtype`, or an EngineError (one line) naming what was looked for. `auto` takes fp32
 * when it fits comfortably in memory, else the first quantized file in the provider's order; a genai layout
 * has one graph whatever the dtype.
 */
export function chooseModelFile(
  listing: readonly ListedFile[],
  dtype: ModelDtype,
  options: ChooseOptions = {},
  where = 'the model folder',
): ModelFileChoice {
  const has = new Set(listing.map((f) => f.path));
  const find = (d: ConcreteDtype, reason?: string): ModelFileChoice | null => {
    const hit = candidatesFor(d).find((c) => has.has(c.graph));
    return hit ? choice(listing, hit.graph, d, hit.layout, reason) : null;
  };
  // A builder folder's genai_config.json names the graph to run; the file names then say nothing of the dtype.
  const genai = genaiChoice(listing, options);
  if (genai && (dtype === 'auto' || genai.dtype === dtype || (genai.dtype === 'unknown' && !find(dtype)))) return genai;
  if (dtype !== 'auto') {
    const found = find(dtype);
    if (found) return found;
    const present = listing.filter((f) => f.path.endsWith('.onnx')).map((f) => f.path);
    throw new EngineError(
      `No ${dtype} model file in ${where}: looked for ${candidatesFor(dtype)
        .slice(0, 2)
        .map((c) => c.graph)
        .join(
          ' and ',
        )}${present.length ? ` (found ${present.slice(0, 6).join(', ')}${present.length > 6 ? ', …' : ''})` : ''}.`,
    );
  }
  const memory = options.memoryBytes ?? os.totalmem();
  const full = find('fp32');
  const others = (options.gpu ? GPU_ORDER : CPU_ORDER)
    .map((d) => find(d))
    .filter((c): c is ModelFileChoice => c !== null);
  if (full) {
    const comfortable = full.bytes === null || full.bytes <= memory * COMFORTABLE_MEMORY_SHARE;
    if (comfortable || others.length === 0) return full;
    const pick = others[0];
    return {
      ...pick,
      reason: `${full.graph} (${gib(full.bytes as number)}) does not fit comfortably in ${gib(memory)} of memory; ran ${pick.graph} (${pick.dtype}).`,
    };
  }
  if (others.length) return others[0];
  throw new EngineError(
    `No ONNX model in ${where}: expected onnx/model.onnx (or another dtype's onnx/model_*.onnx), onnx/decoder_model_merged.onnx, or a genai_config.json naming the graph.`,
  );
}

function genaiChoice(listing: readonly ListedFile[], options: ChooseOptions): ModelFileChoice | null {
  if (!options.genaiGraph) return null;
  const base = path.posix.dirname(options.genaiConfig ?? 'genai_config.json');
  const graph = path.posix.normalize(base === '.' ? options.genaiGraph : `${base}/${options.genaiGraph}`);
  if (!listing.some((f) => f.path === graph)) return null;
  return choice(listing, graph, dtypeFromGenaiFolder(graph), 'genai');
}

/** The files to download for `dtype`: the graph and its external data (plus genai_config.json for that layout). */
export function filesForDtype(
  listing: readonly ListedFile[],
  dtype: ModelDtype,
  options: ChooseOptions = {},
): string[] {
  const picked = chooseModelFile(listing, dtype, options);
  return [
    picked.graph,
    ...picked.externalData,
    ...(picked.layout === 'genai' ? [options.genaiConfig ?? 'genai_config.json'] : []),
  ];
}

/** genai_config.json's `model.decoder.filename`, when the file is there and names one. */
export async function readGenaiGraphName(configFile: string): Promise<string | undefined> {
  try {
    const json = JSON.parse(await fs.readFile(configFile, 'utf8')) as { model?: { decoder?: { filename?: unknown } } };
    const name = json.model?.decoder?.filename;
    return typeof name === 'string' && name ? name : undefined;
  } catch {
    return undefined;
  }
}

async function listFolder(folder: string, sub: string): Promise<ListedFile[]> {
  let entries;
  try {
    entries = await fs.readdir(path.join(folder, sub), { withFileTypes: true });
  } catch {
    return [];
  }
  const files: ListedFile[] = [];
  for (const entry of entries) {
    const relative = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) continue;
    const stat = await fs.stat(path.join(folder, relative)).catch(() => null);
    if (stat?.isFile()) files.push({ path: relative, size: stat.size });
  }
  return files;
}

export interface ResolvedModelFile extends ModelFileChoice {
  /** Absolute path of the graph. */
  readonly file: string;
}

/** Picks the graph to run in a local model folder (root and onnx/, plus the genai graph's own folder). */
export async function resolveModelFile(
  folder: string,
  dtype: ModelDtype,
  options: Omit<ChooseOptions, 'genaiGraph' | 'genaiConfig'> = {},
): Promise<ResolvedModelFile> {
  const listing = [...(await listFolder(folder, '')), ...(await listFolder(folder, 'onnx'))];
  const genaiGraph = await readGenaiGraphName(path.join(folder, 'genai_config.json'));
  if (genaiGraph) {
    const sub = path.posix.dirname(path.posix.normalize(genaiGraph));
    if (sub !== '.' && sub !== 'onnx' && !sub.startsWith('..')) listing.push(...(await listFolder(folder, sub)));
  }
  const picked = chooseModelFile(listing, dtype, { ...options, ...(genaiGraph ? { genaiGraph } : {}) }, folder);
  return { ...picked, file: path.join(folder, ...picked.graph.split('/')) };
}
