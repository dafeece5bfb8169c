// A GGUF file turned into the graph the inspector runs, once per file: the decoder (ggufDecoder.ts) with the
// attention statistics recomputed from its sites' Q and K, which it also outputs for rows on demand
// (siteStatistics.ts), is built into a cache entry (model.onnx + weights.bin, the weights
// still quantized) keyed like the tapped-graph cache (path, size, mtime, inode, first and last MiB). The
// entry is built in a temporary folder and renamed into place, so a failure (a bad file, a full disk, a
// killed process) leaves nothing half-written; meta.json's graph hash and weights size are checked on reuse.
// Beside them, source.json (builtSource.ts) keeps what a later load needs from the file, so a GGUF file whose
// entry is found is not parsed again (findCachedGguf), and the CPU session's optimized graph is saved there
// on first use (savedGraph.ts).
import { createHash } from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { firstLine } from '../../shared/errorText';
import { EngineError } from '../engineError';
import type { AttentionSite } from '../graph/attentionSite';
import type { StatsOutputs } from '../graph/attentionStatsGraph';
import type { TensorReader } from '../graph/ggufDecoder';
import { buildGgufDecoder, MLP_COLUMNS, MLP_ROWS } from '../graph/ggufDecoder';
import { ModelBuilder, WeightSink } from '../graph/modelBuilder';
import { encodeModel, pruneToOutputs } from '../graph/onnxGraph';
import { appendSiteStatistics } from '../graph/siteStatistics';
import type { BlockPlan } from '../graph/siteStatsGraph';
import { cacheKey } from '../graph/tapCache';
import type { BuiltSource } from './builtSource';
import { readBuiltSource, writeBuiltSource } from './builtSource';
import type { GgufFile, GgufTensorInfo } from './ggufFile';
import { readGgufFile } from './ggufFile';
import type { GgufTokenizerSpec } from './ggufTokenizer';
import { dequantize, encodeQ8_0, isFloatType, Q8_0 } from './ggufQuants';

const GGUF_GRAPH_VERSION = 'gguf-v18';
const OPSET = 18;
const WEIGHTS_FILE = 'weights.bin';

export interface GgufPrepared {
  readonly file: BuiltSource;
  /** The built graph on disk. */
  readonly modelPath: string;
  readonly stats: StatsOutputs;
  /** Each layer's Q and K as graph outputs (rows on demand); null without the statistics. */
  readonly sites: readonly AttentionSite[] | null;
}

interface EntryMeta {
  readonly version: string;
  readonly stats: StatsOutputs;
  readonly sites: readonly AttentionSite[] | null;
  readonly graphSha256: string;
  readonly weightsBytes: number;
}

export interface GgufPrepareOptions {
  readonly rebuild?: boolean;
  /** Called while the graph is built (once per file), with the fraction done. */
  readonly onPreparing?: (fraction: number) => void;
  /** Free memory, for the check before building (default os.freemem()). */
  readonly freeBytes?: () => number;
  /** false: the plain decoder without the attention statistics (the bench's raw forward pass). */
  readonly statistics?: boolean;
  /** Tests only: where the statistics recomputed from Q and K switch to row blocks. */
  readonly blocks?: BlockPlan;
  /** Tests only: how many rows the MLP runs at a time (ggufDecoder.ts MLP_ROWS). */
  readonly mlpRows?: number;
  /** Tests only: about how many intermediate columns the MLP runs at a time (ggufDecoder.ts MLP_COLUMNS). */
  readonly mlpColumns?: number;
  /** The tokenizer built from the GGUF metadata, kept in the entry for later loads (source.json). */
  readonly tokenizer?: GgufTokenizerSpec;
}

/** A cached GGUF entry found without parsing the file: the graph, and the file's record (source.json). */
export interface CachedGguf {
  readonly prepared: GgufPrepared;
  readonly tokenizer: GgufTokenizerSpec;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function readEntry(dir: string): Promise<EntryMeta | null> {
  try {
    const meta = JSON.parse(await fs.readFile(path.join(dir, 'meta.json'), 'utf8')) as EntryMeta;
    if (meta.version !== GGUF_GRAPH_VERSION) return null;
    if (sha256(await fs.readFile(path.join(dir, 'model.onnx'))) !== meta.graphSha256) return null;
    if ((await fs.stat(path.join(dir, WEIGHTS_FILE))).size !== meta.weightsBytes) return null;
    return meta;
  } catch {
    return null;
  }
}

/** Reads tensors synchronously from the open file; counts bytes read for the progress. */
function tensorReader(file: GgufFile, fdOf: (path: string) => number, onBytes: (bytes: number) => void): TensorReader {
  const info = (name: string): GgufTensorInfo => {
    const t = file.tensors.get(name);
    if (!t)
      throw new EngineError(`${file.path} has no tensor ${name}, which its ${file.hyper.arch} architecture needs.`);
    return t;
  };
  const bytes = (t: GgufTensorInfo): Uint8Array => {
    const buffer = new Uint8Array(t.bytes);
    const read = fsSync.readSync(fdOf(t.file ?? file.path), buffer, 0, t.bytes, t.offset);
    if (read !== t.bytes) throw new EngineError(`GGUF tensor ${t.name} could not be read whole from ${file.path}.`);
    onBytes(t.bytes);
    return buffer;
  };
  return {
    has: (name) => file.tensors.has(name) || (file.virtualTensors?.has(name) ?? false),
    matrix(name) {
      const t = info(name);
      if (t.dims.length !== 2) throw new EngineError(`GGUF tensor ${name} is not a matrix.`);
      if (file.requantize8 && isFloatType(t.type))
        return { name, dims: t.dims, type: Q8_0, bytes: encodeQ8_0(dequantize(t.type, bytes(t), t.elements)) };
      return { name, dims: t.dims, type: t.type, bytes: bytes(t) };
    },
    floats(name) {
      const computed = file.virtualTensors?.get(name);
      if (computed) return computed;
      const t = info(name);
      const values = dequantize(t.type, bytes(t), t.elements);
      if (t.plusOne) for (let i = 0; i < values.length; i++) values[i] = Math.fround(values[i] + 1);
      return values;
    },
  };
}

async function build(
  file: GgufFile,
  dir: string,
  onPreparing: (fraction: number) => void,
  statistics: boolean,
  blocks: BlockPlan | undefined,
  mlpRows: number | undefined,
  mlpColumns: number | undefined,
): Promise<EntryMeta> {
  const weightsPath = path.join(dir, WEIGHTS_FILE);
  const out = fsSync.openSync(weightsPath, 'w');
  const sources = new Map<string, number>();
  const fdOf = (p: string): number => {
    let fd = sources.get(p);
    if (fd === undefined) sources.set(p, (fd = fsSync.openSync(p, 'r')));
    return fd;
  };
  try {
    const total = [...file.tensors.values()].reduce((sum, t) => sum + t.bytes, 0) || 1;
    let done = 0;
    let reported = -1;
    const reader = tensorReader(file, fdOf, (bytes) => {
      done += bytes;
      const percent = Math.floor((100 * done) / total);
      if (percent !== reported) {
        reported = percent;
        onPreparing(Math.min(1, done / total));
      }
    });
    const builder = new ModelBuilder(new WeightSink(out, WEIGHTS_FILE));
    const decoder = buildGgufDecoder(builder, file.hyper, reader, () => undefined, mlpRows, mlpColumns);
    const model = builder.model(OPSET);
    const { stats, sites } = statistics
      ? appendSiteStatistics(model, decoder.sites, decoder.anchors, blocks)
      : { stats: { layers: [], probabilities: [], longRange: '', longRangeFrom: 0 }, sites: null };
    // Nodes whose results nothing reads (the sites' transposes in the plain graph, shape arithmetic the
    // statistics did not use): onnxruntime runs them anyway and holds their outputs to the end of the run
    // (the plain graph's unread Q, K and V transposes were 9 MiB a layer at 2,048 tokens).
    pruneToOutputs(model, model.graph?.output ?? []);
    const encoded = encodeModel(model);
    await fs.writeFile(path.join(dir, 'model.onnx'), encoded);
    fsSync.fsyncSync(out);
    const weightsBytes = fsSync.fstatSync(out).size;
    const meta: EntryMeta = { version: GGUF_GRAPH_VERSION, stats, sites, graphSha256: sha256(encoded), weightsBytes };
    await fs.writeFile(path.join(dir, 'meta.json'), JSON.stringify(meta));
    return meta;
  } finally {
    fsSync.closeSync(out);
    for (const fd of sources.values()) fsSync.closeSync(fd);
  }
}

/** The built graph for `ggufPath`, building it (once) when the cache has no valid entry. */
export async function prepareGgufModel(
  ggufPath: string,
  cacheDir: string,
  options: GgufPrepareOptions = {},
): Promise<GgufPrepared> {
  return prepareBuiltModel(await readGgufFile(ggufPath), cacheDir, options);
}

/** The entry folder of a model read from `keyFiles` (stat key and first/last MiB, tapCache.ts cacheKey). */
async function entryFolder(
  keyFiles: readonly string[],
  requantize8: boolean,
  cacheDir: string,
  options: GgufPrepareOptions,
): Promise<string> {
  const hash = createHash('sha256').update(
    `${GGUF_GRAPH_VERSION}\0${options.statistics === false ? 'raw' : 'stats'}\0${requantize8 ? 'q8' : ''}\0${JSON.stringify(options.blocks ?? null)}\0${options.mlpRows ?? MLP_ROWS}\0${options.mlpColumns ?? MLP_COLUMNS}`,
  );
  for (const keyFile of keyFiles) hash.update(`\0${await cacheKey(keyFile, await fs.stat(keyFile))}`);
  return path.join(cacheDir, 'gguf', hash.digest('hex').slice(0, 32));
}

/**
 * The cached entry of GGUF file `ggufPath` with its record, found by the stat key alone (a GGUF file is its
 * only key file and is never requantized: readGgufFile), or null: then the file is read and prepared.
 */
export async function findCachedGguf(
  ggufPath: string,
  cacheDir: string,
  options: GgufPrepareOptions = {},
): Promise<CachedGguf | null> {
  let entry: string;
  try {
    entry = await entryFolder([ggufPath], false, cacheDir, options);
  } catch {
    return null; // the file cannot be read: reading it again says why, in one line
  }
  const found = await readEntry(entry);
  const record = found && (await readBuiltSource(entry, ggufPath));
  if (!found || !record?.tokenizer || record.source.format === 'safetensors') return null;
  const prepared = { file: record.source, modelPath: path.join(entry, 'model.onnx'), ...entryGraph(found) };
  return { prepared, tokenizer: record.tokenizer };
}

const entryGraph = (meta: EntryMeta): Pick<GgufPrepared, 'stats' | 'sites'> => ({
  stats: meta.stats,
  sites: meta.sites,
});

/** The built graph of a read model (a GGUF file, a safetensors checkpoint), from the cache or built now. */
export async function prepareBuiltModel(
  file: GgufFile,
  cacheDir: string,
  options: GgufPrepareOptions = {},
): Promise<GgufPrepared> {
  const ggufPath = file.path;
  const entry = await entryFolder(file.keyFiles ?? [ggufPath], file.requantize8 === true, cacheDir, options);
  const modelPath = path.join(entry, 'model.onnx');
  const tokenizer = options.tokenizer ?? null;
  if (!options.rebuild) {
    const found = await readEntry(entry);
    if (found) {
      // An entry built before source.json, or whose record lacks what this load has, gets it now.
      const record = await readBuiltSource(entry, ggufPath);
      if (!record || (tokenizer && !record.tokenizer)) await writeBuiltSource(entry, file, tokenizer);
      return { file, modelPath, ...entryGraph(found) };
    }
  }
  // What the session will hold: float matrices as fp32 (or 8-bit when requantized), quantized ones re-encoded
  // (5- and 6-bit codes take 8 bits); refuse before building.
  const graphBytes = [...file.tensors.values()].reduce(
    (sum, t) =>
      sum +
      (!isFloatType(t.type)
        ? t.bytes * 1.6
        : file.requantize8 && t.dims.length === 2
          ? t.elements * 1.1
          : t.elements * 4),
    0,
  );
  const free = (options.freeBytes ?? os.freemem)();
  const needed = Math.ceil(graphBytes) + 256 * 2 ** 20;
  if (needed > free)
    throw new EngineError(
      `Loading ${path.basename(ggufPath)} needs about ${(needed / 2 ** 30).toFixed(1)} GiB of memory; the machine has ${(free / 2 ** 30).toFixed(1)} GiB free.`,
    );
  options.onPreparing?.(0);
  const temp = `${entry}.tmp-${process.pid}-${Date.now()}`;
  try {
    await fs.mkdir(temp, { recursive: true });
    const meta = await build(
      file,
      temp,
      options.onPreparing ?? (() => undefined),
      options.statistics !== false,
      options.blocks,
      options.mlpRows,
      options.mlpColumns,
    );
    await writeBuiltSource(temp, file, tokenizer);
    await fs.rm(entry, { recursive: true, force: true });
    await fs.rename(temp, entry);
    return { file, modelPath, ...entryGraph(meta) };
  } catch (error) {
    await fs.rm(temp, { recursive: true, force: true });
    if (error instanceof EngineError) throw error;
    throw new EngineError(`Cannot build the graph of ${ggufPath} in ${cacheDir} (${firstLine(error)}).`);
  }
}
