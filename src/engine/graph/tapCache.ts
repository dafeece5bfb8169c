// Graph surgery, paid once per model: the tapped (and pruned) graph is written to a cache directory keyed
// by the source model's hash, next to hard links to (or copies of) its external data files, so their
// relative locations still resolve.
//
// Key: sha256 of the model.onnx bytes for files up to 512 MiB (exact: a model replaced in place with
// the same size and mtime still gets a fresh tap); above that, sha256 of path + size + mtime, so a
// multi-GB export is not re-read on every load. The surgery version is part of the key.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { AttentionTapPlan } from './attentionTap';
import type { StatsOutputs } from './attentionStatsGraph';
import { appendAttentionStats } from './attentionStatsGraph';
import { planAttentionTap } from './attentionTap';
import { EngineError } from '../engineError';
import type { Dim, ModelProto } from './onnxGraph';
import { decodeModel, encodeModel, makeValueInfo, pruneToOutputs, toNumber, valueElemType, valueShape } from './onnxGraph';

const SURGERY_VERSION = 'tap-v13';
const CONTENT_HASH_LIMIT = 512 * 1024 * 1024;

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
}

export interface TappedModel extends TappedModelInfo {
  /** The tapped graph on disk (external data linked next to it). */
  readonly modelPath: string;
}

async function hashFile(file: string, size: number, mtimeMs: number): Promise<string> {
  const hash = createHash('sha256').update(SURGERY_VERSION);
  if (size > CONTENT_HASH_LIMIT) {
    hash.update(`${path.resolve(file)}\0${size}\0${mtimeMs}`);
  } else {
    await new Promise<void>((resolve, reject) => {
      createReadStream(file)
        .on('data', (chunk) => hash.update(chunk))
        .on('end', () => resolve())
        .on('error', reject);
    });
  }
  // The usual external-data file: a replaced one (new size or mtime) must not reuse a stale link.
  const data = await fs.stat(`${file}_data`).catch(() => null);
  if (data) hash.update(`\0data\0${data.size}\0${data.mtimeMs}`);
  return hash.digest('hex').slice(0, 32);
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

/** Returns the tapped model for `modelFile`, doing the surgery when the cache has no entry for it. */
export async function prepareTappedModel(modelFile: string, layers: number, cacheDir: string): Promise<TappedModel> {
  let stat;
  try {
    stat = await fs.stat(modelFile);
  } catch {
    throw new EngineError(`Model file not found: ${modelFile}`);
  }
  const key = await hashFile(modelFile, stat.size, stat.mtimeMs);
  const entryDir = path.join(cacheDir, 'tapped', key);
  const modelPath = path.join(entryDir, 'model.onnx');
  const metaPath = path.join(entryDir, 'meta.json');
  try {
    const meta = JSON.parse(await fs.readFile(metaPath, 'utf8')) as TappedModelInfo & { layers: number };
    await fs.access(modelPath);
    if (meta.layers === layers) return { ...meta, modelPath };
  } catch {
    // No usable cache entry: do the surgery.
  }

  let model: ModelProto;
  try {
    model = decodeModel(await fs.readFile(modelFile));
  } catch (error) {
    throw new EngineError(`Model file ${modelFile} is not a valid ONNX model (${error instanceof Error ? error.message : String(error)}).`);
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) throw new EngineError(`Model file ${modelFile} is not a valid ONNX model (no graph).`);
  const plan = planAttentionTap(model, layers, modelFile);
  const initializers = new Set((model.graph.initializer ?? []).map((t) => t.name));
  const inputs = (model.graph.input ?? [])
    .filter((i) => !initializers.has(i.name))
    .map((i) => ({ name: i.name ?? '', elemType: valueElemType(i), shape: valueShape(i) }));
  const vocab = graphVocabSize(model);
  pruneToOutputs(model, plan.outputNames.map((name) => makeValueInfo(name, 0, null)));
  const info: TappedModelInfo = { plan, inputs, graphVocabSize: vocab, stats: appendAttentionStats(model, plan.outputNames) };

  await fs.mkdir(entryDir, { recursive: true });
  for (const file of externalDataFiles(model)) {
    await linkOrCopy(path.resolve(path.dirname(modelFile), file), path.join(entryDir, file));
  }
  const temp = `${modelPath}.${process.pid}.tmp`;
  await fs.writeFile(temp, encodeModel(model));
  await fs.rename(temp, modelPath);
  await fs.writeFile(`${metaPath}.${process.pid}.tmp`, JSON.stringify({ ...info, layers }));
  await fs.rename(`${metaPath}.${process.pid}.tmp`, metaPath);
  return { ...info, modelPath };
}
