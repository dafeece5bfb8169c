// The CPU session of a built graph, from the graph onnxruntime optimized the first time, saved in the cache
// entry beside weights.bin. Optimizing ('all') a built graph costs most of a cached load (about two thirds,
// bench); the saved graph loads with optimization disabled and runs the same kernels. onnxruntime warns that
// such a file is specific to the machine and version that wrote it, so its name carries a hash of the
// onnxruntime version, platform, architecture, CPU model and provider: another environment writes its own.
// The first session is created from model.onnx with `optimizedModelFilePath` (no second optimization pass),
// into a temporary name renamed into place, so no half-written file is ever loaded. A saved graph that fails
// to load is deleted and the session comes from model.onnx (saving again), so one of the two always runs;
// where the graph cannot be saved (a full disk, a read-only cache), the session is created without saving.
import { createHash, randomBytes } from 'node:crypto';
import * as fsSync from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { firstLine } from '../../shared/errorText';

const PREFIX = 'optimized-';

export type SessionFactory = (
  modelPath: string,
  options: ort.InferenceSession.SessionOptions,
) => Promise<ort.InferenceSession>;

/** How the session came about: from the saved graph, from model.onnx (saving it), and why not the saved one. */
export interface SavedGraphUse {
  readonly graph: 'saved' | 'model';
  /** The saved graph failed to load (then deleted), or could not be written: one line. */
  readonly problem?: string;
}

/** The saved graph's file name for this onnxruntime build and machine. */
export function savedGraphName(ortVersion: string, provider: string): string {
  const environment = [ortVersion, process.platform, process.arch, os.cpus()[0]?.model ?? '', provider, 'all'];
  return `${PREFIX}${createHash('sha256').update(environment.join('\0')).digest('hex').slice(0, 16)}.onnx`;
}

const joined = (first: string | undefined, second: string): string => (first ? `${first}; ${second}` : second);

/** Writes the temporary file to disk before it is renamed, so a crash cannot leave an empty saved graph. */
function syncFile(file: string): void {
  const fd = fsSync.openSync(file, 'r');
  try {
    fsSync.fsyncSync(fd);
  } finally {
    fsSync.closeSync(fd);
  }
}

/**
 * A CPU session for `modelPath`, through the saved graph `name` in its folder. `options` are the session
 * options of a live optimization ('all'); the saved graph loads with optimization disabled.
 */
export async function sessionWithSavedGraph(
  modelPath: string,
  name: string,
  options: ort.InferenceSession.SessionOptions,
  create: SessionFactory,
  onUse: (use: SavedGraphUse) => void = () => undefined,
): Promise<ort.InferenceSession> {
  const dir = path.dirname(modelPath);
  const saved = path.join(dir, name);
  let problem: string | undefined;
  if (fsSync.existsSync(saved)) {
    try {
      const session = await create(saved, { ...options, graphOptimizationLevel: 'disabled' });
      onUse({ graph: 'saved' });
      return session;
    } catch (error) {
      problem = `the saved optimized graph ${name} did not load (${firstLine(error)}); it is written again`;
      await fs.rm(saved, { force: true }).catch((rmError: unknown) => {
        problem = joined(problem, `it could not be deleted (${firstLine(rmError)})`);
      });
    }
  }
  const temp = path.join(dir, `${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let session: ort.InferenceSession;
  try {
    session = await create(modelPath, { ...options, optimizedModelFilePath: temp });
  } catch (error) {
    await fs.rm(temp, { force: true });
    // Writing the file may be what failed (a full disk, a read-only cache): the session does not need it.
    session = await create(modelPath, options);
    onUse({ graph: 'model', problem: joined(problem, `the optimized graph could not be saved (${firstLine(error)})`) });
    return session;
  }
  try {
    syncFile(temp);
    // Graphs saved by another onnxruntime or machine are of no use here any more.
    for (const other of await fs.readdir(dir))
      if (other.startsWith(PREFIX) && other !== name && !other.includes('.tmp-'))
        await fs.rm(path.join(dir, other), { force: true });
    await fs.rename(temp, saved);
  } catch (error) {
    await fs.rm(temp, { force: true });
    problem = joined(problem, `the optimized graph could not be saved (${firstLine(error)})`);
  }
  onUse({ graph: 'model', ...(problem ? { problem } : {}) });
  return session;
}
