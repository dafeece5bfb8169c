// Graph surgery, paid once per model: the tapped (and pruned) graph is written to a cache directory, with its
// weights left where they are. Weights inline in the source's model.onnx become external data that points
// into a hard link of the source file itself (each tensor's offset and length in it); a source with external
// data gets hard links to its data files. Either way the entry is a small graph, never a copy of the weights
// (a copy only where a hard link cannot be made, e.g. the cache on another file system). onnxruntime refuses
// external data whose real path lies outside the model's folder, hence links rather than symlinks or paths.
//
// Key: sha256 of the surgery version, the source's path, size, mtime and inode, and its first and last MiB
// (and the usual data file's size and mtime), so finding the entry never reads the whole file. The entry's
// meta.json holds the sha256 of its small model.onnx and the linked files' sizes; an entry that does not
// match them (a torn write, a truncated link) is rebuilt, as is one whose session fails to load
// (LoadedModel.load asks for a rebuild).
import { createHash } from 'node:crypto';
import { onnx } from 'onnx-proto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { AttentionTapPlan } from './attentionTap';
import type { StatsOutputs } from './attentionStatsGraph';
import { appendAttentionStats } from './attentionStatsGraph';
import { LOGITS_KEEP_INPUT, sliceLogitsInput } from './logitsSlice';
import { planAttentionTap } from './attentionTap';
import { appendValueNorms } from './valueNormGraph';
import { chunkExportMlps, EXPORT_MLP_ROWS } from './exportRowChunks';
import { sliceRowWiseTail } from './logitsTail';
import type { AttentionSite } from './attentionSite';
import type { SiteShape } from './onnxSites';
import type { BlockPlan } from './siteStatsGraph';
import { castSites, exposeSites, findAttentionSites, unfuseAttention } from './onnxSites';
import { firstLine } from '../../shared/errorText';
import { EngineError } from '../engineError';
import type { Dim, ModelProto } from './onnxGraph';
import {
  decodeModel,
  encodeModel,
  makeValueInfo,
  pruneToOutputs,
  toNumber,
  valueElemType,
  valueShape,
} from './onnxGraph';

const SURGERY_VERSION = 'tap-v39';
const EDGE_BYTES = 1024 * 1024;
/** Initializers below this stay inline in the tapped graph. */
const EXTERNAL_MIN_BYTES = 1024;
const SOURCE_LINK = 'source.onnx';

export interface GraphInputInfo {
  readonly name: string;
  readonly elemType: number;
  readonly shape: Dim[] | null;
}

export interface TappedModelInfo {
  readonly plan: AttentionTapPlan;
  readonly inputs: readonly GraphInputInfo[];
  /** Vocabulary rows the graph can look up (embedding table or logits width), when known. */
  readonly graphVocabSize: number | null;
  /** Per-layer received-attention and rollout outputs computed in the graph (attentionStatsGraph.ts). */
  readonly stats: StatsOutputs;
  /** Per layer, where its post-rotary Q and K leave the graph (fp16), for rows on demand; null: not found. */
  readonly sites?: readonly AttentionSite[] | null;
  /** The logits output, its LM head fed only the last positions (LOGITS_KEEP_INPUT), when the graph allows. */
  readonly logits?: string;
  /** Per layer, the [1, heads, n] ‖v_j W_O^h‖ output (valueNormGraph.ts), when the graph's shape allows it. */
  readonly valueNorms?: readonly string[];
  /** Why there are no value norms (one line), when there are none. */
  readonly valueNormsMissing?: string;
}

export interface TappedModel extends TappedModelInfo {
  /** The tapped graph on disk (external data linked next to it). */
  readonly modelPath: string;
}

async function readRange(handle: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buffer, 0, length, position);
  return buffer.subarray(0, bytesRead);
}

/** The cache key: a stat key and a partial hash (first and last MiB), not the whole file. */
export async function cacheKey(file: string, stat: { size: number; mtimeMs: number; ino: number }): Promise<string> {
  const hash = createHash('sha256').update(
    `${SURGERY_VERSION}\0${path.resolve(file)}\0${stat.size}\0${stat.mtimeMs}\0${stat.ino}`,
  );
  const handle = await fs.open(file, 'r');
  try {
    hash.update(await readRange(handle, 0, Math.min(EDGE_BYTES, stat.size)));
    if (stat.size > EDGE_BYTES)
      hash.update(await readRange(handle, Math.max(EDGE_BYTES, stat.size - EDGE_BYTES), EDGE_BYTES));
  } finally {
    await handle.close();
  }
  // The usual external-data file: a replaced one (new size or mtime) must not reuse a stale link.
  const data = await fs.stat(`${file}_data`).catch(() => null);
  if (data) hash.update(`\0data\0${data.size}\0${data.mtimeMs}`);
  return hash.digest('hex').slice(0, 32);
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Turns the inline weights of `model` (decoded from `source`, whose bytes they still view) into external
 * data at their own offsets in `location`, the source file. Returns false when the bytes are not views
 * into `source` (then the weights stay inline).
 */
function pointWeightsAtSource(model: ModelProto, source: Uint8Array, location: string): boolean {
  const tensors = (model.graph?.initializer ?? []).filter(
    (t) => t.rawData && t.rawData.length >= EXTERNAL_MIN_BYTES && !(t.externalData ?? []).length,
  );
  if (tensors.some((t) => (t.rawData as Uint8Array).buffer !== source.buffer)) return false;
  for (const tensor of tensors) {
    const raw = tensor.rawData as Uint8Array;
    tensor.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(raw.byteOffset - source.byteOffset) },
      { key: 'length', value: String(raw.length) },
    ];
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.rawData = new Uint8Array(0);
  }
  return tensors.length > 0;
}

/** The logits width or the embedding table's row count: what token ids the graph accepts. */
function graphVocabSize(model: ModelProto): number | null {
  const graph = model.graph;
  const logits = (graph?.output ?? []).find((o) => o.name === 'logits');
  const last = valueShape(logits)?.at(-1);
  if (typeof last === 'number') return last;
  const producerInputs = new Set<string>();
  for (const node of graph?.node ?? []) {
    if (node.opType === 'Gather' && node.input?.[1] === 'input_ids' && node.input[0]) producerInputs.add(node.input[0]);
  }
  const table = (graph?.initializer ?? []).find((t) => producerInputs.has(t.name ?? ''));
  return table?.dims?.length === 2 ? toNumber(table.dims[0]) : null;
}

function externalDataFiles(model: ModelProto): string[] {
  const files = new Set<string>();
  for (const tensor of model.graph?.initializer ?? []) {
    for (const entry of tensor.externalData ?? []) if (entry.key === 'location' && entry.value) files.add(entry.value);
  }
  return [...files];
}

/**
 * onnxruntime refuses external data whose real path (symlinks resolved) lies outside the model's folder,
 * so the data file gets a hard link in the cache entry, or a copy when the cache is on another file system.
 */
async function linkOrCopy(source: string, target: string): Promise<void> {
  await fs.rm(target, { force: true });
  try {
    await fs.link(source, target);
  } catch {
    await fs.copyFile(source, target);
  }
}

interface EntryMeta extends TappedModelInfo {
  readonly layers: number;
  /** The attention shape and block plan it was built for: an entry built for others is rebuilt. */
  readonly surgery?: string;
  /** sha256 of the entry's model.onnx, and each linked file's size. */
  readonly graphSha256: string;
  readonly links: Readonly<Record<string, number>>;
}

async function readEntry(entryDir: string, layers: number, surgery: string): Promise<TappedModelInfo | null> {
  try {
    const meta = JSON.parse(await fs.readFile(path.join(entryDir, 'meta.json'), 'utf8')) as EntryMeta;
    if (
      meta.layers !== layers ||
      meta.surgery !== surgery ||
      sha256(await fs.readFile(path.join(entryDir, 'model.onnx'))) !== meta.graphSha256
    )
      return null;
    for (const [file, size] of Object.entries(meta.links))
      if ((await fs.stat(path.join(entryDir, file))).size !== size) return null;
    return {
      plan: meta.plan,
      inputs: meta.inputs,
      graphVocabSize: meta.graphVocabSize,
      stats: meta.stats,
      sites: meta.sites ?? null,
      ...(meta.logits ? { logits: meta.logits } : {}),
      ...(meta.valueNorms ? { valueNorms: meta.valueNorms } : {}),
      ...(meta.valueNormsMissing ? { valueNormsMissing: meta.valueNormsMissing } : {}),
    };
  } catch {
    return null;
  }
}

export interface PrepareOptions {
  /** Build the entry again even if one is found (its session failed to load). */
  readonly rebuild?: boolean;
  /** Called when the surgery has to run (once per model): the caller says "preparing the model". */
  readonly onPreparing?: () => void;
  /** Attention heads per layer: with it, the graph also gives "attention × value norm" norms where it can. */
  readonly heads?: number;
  /** The model's attention shape (config.json): with it, each layer's Q and K are found and kept. */
  readonly attention?: SiteShape;
  /** Tests only: where the statistics recomputed from Q and K switch to row blocks. */
  readonly blocks?: BlockPlan;
  /** Tests only: the rows of the MLP's chunks (exportRowChunks.ts); 0 leaves the MLP whole. */
  readonly mlpRows?: number;
}

/** Returns the tapped model for `modelFile`, doing the surgery when the cache has no valid entry for it. */
export async function prepareTappedModel(
  modelFile: string,
  layers: number,
  cacheDir: string,
  options: PrepareOptions = {},
): Promise<TappedModel> {
  let stat;
  try {
    stat = await fs.stat(modelFile);
  } catch {
    throw new EngineError(`Model file not found: ${modelFile}`);
  }
  const key = await cacheKey(modelFile, stat);
  const entryDir = path.join(cacheDir, 'tapped', key);
  const modelPath = path.join(entryDir, 'model.onnx');
  const mlpRows = options.mlpRows ?? EXPORT_MLP_ROWS;
  const surgery = JSON.stringify([options.attention ?? null, options.blocks ?? null, mlpRows]);
  if (!options.rebuild) {
    const found = await readEntry(entryDir, layers, surgery);
    // An entry built without the heads has no value norms: it is built again for a caller that wants them.
    const lacksNorms = options.heads !== undefined && !found?.valueNorms && !found?.valueNormsMissing;
    if (found && !lacksNorms) return { ...found, modelPath };
  }
  options.onPreparing?.();

  let bytes: Buffer;
  let model: ModelProto;
  try {
    bytes = await fs.readFile(modelFile);
    model = decodeModel(bytes);
  } catch (error) {
    throw new EngineError(
      `Model file ${modelFile} is not a valid ONNX model (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
  if (!model.graph || (model.graph.node ?? []).length === 0)
    throw new EngineError(`Model file ${modelFile} is not a valid ONNX model (no graph).`);
  const plan = planAttentionTap(model, layers, modelFile);
  const initializers = new Set((model.graph.initializer ?? []).map((t) => t.name));
  const inputs = (model.graph.input ?? [])
    .filter((i) => !initializers.has(i.name))
    .map((i) => ({ name: i.name ?? '', elemType: valueElemType(i), shape: valueShape(i) }));
  const vocab = graphVocabSize(model);
  // The next-token distribution costs the last position's LM head (and the last layer's MLP) when the head
  // can be sliced; an export that slices it itself (logits_to_keep, fed 0 = every position) keeps none.
  const logits = sliceLogitsInput(model) ? 'logits' : undefined;
  // Its keep input defaults to the last position (an initializer of the same name), so callers may omit it.
  if (logits)
    model.graph.initializer = [
      ...(model.graph.initializer ?? []),
      onnx.TensorProto.create({
        name: LOGITS_KEEP_INPUT,
        dataType: onnx.TensorProto.DataType.INT64,
        dims: [1],
        rawData: new Uint8Array(BigInt64Array.of(-1n).buffer),
      }),
    ];
  // "Attention × value norm": one extra projection per layer, where the output projection is a plain MatMul.
  let valueNorms: string[] | undefined;
  let valueNormsMissing: string | undefined;
  if (options.heads !== undefined) {
    try {
      valueNorms = appendValueNorms(model, plan.outputNames, options.heads, modelFile);
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      valueNormsMissing = error.message;
    }
  }
  pruneToOutputs(
    model,
    [...plan.outputNames, ...(logits ? [logits] : []), ...(valueNorms ?? [])].map((name) =>
      makeValueInfo(name, 0, null),
    ),
  );
  const found = options.attention ? findAttentionSites(model, plan.outputNames, options.attention) : null;
  // A fused operator whose Q and K were found runs fused again: the statistics recompute from the sites.
  const anchors = found ? unfuseAttention(model, plan.outputNames) : null;
  // Q and K in fp16 (K in fp32 was 96 MiB more at the peak at 8,192 tokens on the 0.5B shape, held twice while
  // onnxruntime-node copies the outputs); the row kernel casts K in its own graph.
  const kept = found ? castSites(model, found, 'float16', 'float16') : null;
  const stats = anchors
    ? appendAttentionStats(model, anchors, found, options.blocks, kept)
    : appendAttentionStats(model, plan.outputNames);
  const info: TappedModelInfo = {
    plan: anchors ? { ...plan, cpuOnly: undefined } : plan,
    inputs,
    graphVocabSize: vocab,
    stats,
    sites: found && kept ? exposeSites(model, found, 'float16', 'float16', kept) : null,
    ...(logits ? { logits } : {}),
    ...(valueNorms ? { valueNorms } : {}),
    ...(valueNormsMissing ? { valueNormsMissing } : {}),
  };
  // Last: the passes above find what they read in the export's own nodes.
  // The last layer's MLP and the final norm run on the logits' rows only.
  if (logits) sliceRowWiseTail(model, LOGITS_KEEP_INPUT);
  if (mlpRows > 0) chunkExportMlps(model, mlpRows);

  try {
    await fs.rm(entryDir, { recursive: true, force: true });
    await fs.mkdir(entryDir, { recursive: true });
    const links: Record<string, number> = {};
    for (const file of externalDataFiles(model)) {
      const target = path.join(entryDir, file);
      await linkOrCopy(path.resolve(path.dirname(modelFile), file), target);
      links[file] = (await fs.stat(target)).size;
    }
    // Inline weights: point them into a hard link of the source, unless only a copy could be made.
    const sourceLink = path.join(entryDir, SOURCE_LINK);
    const linked = await fs.link(modelFile, sourceLink).then(
      () => true,
      () => false,
    );
    if (linked && pointWeightsAtSource(model, bytes, SOURCE_LINK)) links[SOURCE_LINK] = stat.size;
    else if (linked) await fs.rm(sourceLink, { force: true });
    const encoded = encodeModel(model);
    const temp = `${modelPath}.${process.pid}.tmp`;
    await fs.writeFile(temp, encoded);
    await fs.rename(temp, modelPath);
    const meta: EntryMeta = { ...info, layers, surgery, graphSha256: sha256(encoded), links };
    const metaPath = path.join(entryDir, 'meta.json');
    await fs.writeFile(`${metaPath}.${process.pid}.tmp`, JSON.stringify(meta));
    await fs.rename(`${metaPath}.${process.pid}.tmp`, metaPath);
  } catch (error) {
    // A full disk or a read-only cache: leave no half-written entry behind, and say which folder.
    await fs.rm(entryDir, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof EngineError) throw error;
    // A recursive mkdir on a read-only file system reports ENOENT; the access check names the real cause.
    const cause = await fs.access(cacheDir, fs.constants.W_OK).then(
      () => firstLine(error),
      (denied: NodeJS.ErrnoException) => firstLine(denied.code === 'ENOENT' ? error : denied),
    );
    throw new EngineError(
      `Cannot write the tapped-graph cache in ${cacheDir} (${cause}); free some space or make the folder writable.`,
    );
  }
  return { ...info, modelPath };
}
