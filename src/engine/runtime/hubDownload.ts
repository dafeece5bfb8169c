// Downloads a Hub model on first use: lists the repository (hubListing.ts), fetches only the files the chosen
// dtype needs (external data included), checks each one's size and hash against the listing, and resumes
// an interrupted file with an HTTP Range request, within a run (a dropped connection) and across runs.
//
// Files are written to `<storage>/hub/.partial/<id>/<file>.part`, renamed to `<file>` once verified, and moved
// into the model folder when all are there, the graph last: a folder never holds a graph whose data is
// missing, and a file that fails its check is deleted, never left half-written.
//
// A hand-written client rather than @huggingface/hub: its downloadFile returns a whole Blob, with no byte
// progress and no Range resume, and its listFiles (which does work against a 127.0.0.1 mirror) is one paged
// GET, done here in a few lines without bundling the package's task metadata and Xet code.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { firstLine, lineWithCause } from '../../shared/errorText';
import { EngineError } from '../engineError';
import type { HubFile, HubRequester } from './hubListing';
import { filesToDownload, GENAI_CONFIG, listHubFiles, pathInside } from './hubListing';
import type { ModelDtype } from './modelFiles';
import { readGenaiGraphName } from './modelFiles';

const HUB_ID = /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/;
export const DEFAULT_HUB_HOST = 'https://huggingface.co/';
/** The listing a model folder was downloaded from, so a later run knows what is there without asking. */
export const LISTING_FILE = '.hub-files.json';
const MAX_ATTEMPTS = 4;

export interface DownloadProgress {
  readonly file: string;
  /** Bytes of the needed files on disk so far (resumed bytes included). */
  readonly loadedBytes: number;
  readonly totalBytes?: number;
}

export interface DownloadOptions {
  /** The Hub host (default $HF_ENDPOINT or https://huggingface.co/); tests use http://127.0.0.1:PORT/. */
  readonly endpoint?: string;
  readonly revision?: string;
  /** Which graph to fetch (default auto: see modelFiles.ts). */
  readonly dtype?: ModelDtype;
  /** A GPU provider was asked for (auto then prefers half-precision files). */
  readonly gpu?: boolean;
  readonly onProgress?: (progress: DownloadProgress) => void;
  /** Aborts the download; what is on disk stays, for a later run to resume. */
  readonly signal?: AbortSignal;
  /** Pause before retrying a dropped connection, per attempt (default 300 ms). */
  readonly retryDelayMs?: number;
  /** A Hub access token (the extension's SecretStorage one); default $HF_TOKEN or $HF_ACCESS_TOKEN. */
  readonly token?: string;
}

export function isHubId(value: string): boolean {
  return HUB_ID.test(value) && !value.split('/').some((part) => part === '.' || part === '..');
}

/** Where a downloaded Hub model lives inside the storage folder. */
export function hubModelFolder(storageDir: string, id: string): string {
  return path.join(storageDir, 'hub', ...id.split('/'));
}

function partialFolder(storageDir: string, id: string): string {
  return path.join(storageDir, 'hub', '.partial', ...id.split('/'));
}

/**
 * The Authorization header for requests to `host`: the token given (the extension keeps one in SecretStorage),
 * else $HF_TOKEN or $HF_ACCESS_TOKEN. It goes to the Hub itself only, never to a mirror or another host.
 */
export function hubAuthHeader(
  host: string,
  token: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const value = token?.trim() || env.HF_TOKEN || env.HF_ACCESS_TOKEN;
  return value && /^https:\/\/(?:huggingface\.co|hf\.co)\//.test(host) ? { Authorization: `Bearer ${value}` } : {};
}

function requester(options: DownloadOptions): HubRequester {
  const host = options.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB_HOST;
  const auth = hubAuthHeader(host, options.token);
  return {
    host,
    get: (url, init = {}) =>
      fetch(url, {
        headers: { 'User-Agent': 'prompt-attention', ...auth, ...init.headers },
        ...(init.signal ? { signal: init.signal } : {}),
      }),
  };
}

function fileUrl(client: HubRequester, id: string, revision: string, file: string): string {
  return `${client.host.replace(/\/+$/, '')}/${id}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    const stat = await fs.stat(file);
    return stat.isFile() ? stat.size : null;
  } catch {
    return null;
  }
}

async function readListing(folder: string): Promise<HubFile[] | null> {
  try {
    const json = JSON.parse(await fs.readFile(path.join(folder, LISTING_FILE), 'utf8')) as unknown;
    return Array.isArray(json) ? (json as HubFile[]) : null;
  } catch {
    return null;
  }
}

/** The files `dtype` needs from `listing`, reading genai_config.json from `folder` when the layout has one. */
async function needed(listing: readonly HubFile[], folder: string, options: DownloadOptions): Promise<HubFile[]> {
  const genaiGraph = listing.some((f) => f.path === GENAI_CONFIG)
    ? await readGenaiGraphName(path.join(folder, GENAI_CONFIG))
    : undefined;
  return filesToDownload(listing, options.dtype ?? 'auto', {
    ...(options.gpu ? { gpu: true } : {}),
    ...(genaiGraph ? { genaiGraph } : {}),
  });
}

async function complete(files: readonly HubFile[], folder: string): Promise<boolean> {
  for (const f of files) if ((await sizeOf(pathInside(folder, f.path))) !== f.size) return false;
  return true;
}

/** Downloads `id` into storage (the files the dtype needs, if not there yet) and returns the model folder. */
export async function ensureHubModel(id: string, storageDir: string, options: DownloadOptions = {}): Promise<string> {
  if (!isHubId(id)) throw new EngineError(`"${id}" is not a Hub model id (owner/name).`);
  const finalDir = hubModelFolder(storageDir, id);
  const saved = await readListing(finalDir);
  if (saved) {
    try {
      if (await complete(await needed(saved, finalDir, options), finalDir)) return finalDir;
    } catch {
      // The saved listing has no file for this dtype: ask the Hub again.
    }
  }
  const client = requester(options);
  const revision = options.revision ?? 'main';
  const listing = await listHubFiles(id, revision, client, options.signal);
  const partDir = partialFolder(storageDir, id);
  await fs.mkdir(partDir, { recursive: true });
  const fetchOne = (file: HubFile, onBytes: (bytes: number) => void): Promise<void> =>
    downloadVerified(
      id,
      fileUrl(client, id, revision, file.path),
      file,
      pathInside(partDir, file.path),
      client,
      options,
      onBytes,
    );
  const genai = listing.find((f) => f.path === GENAI_CONFIG);
  if (genai) await placeOrFetch(genai, finalDir, partDir, fetchOne);
  const files = await needed(listing, genai ? partDir : finalDir, options);
  const missing: HubFile[] = [];
  for (const f of files) if ((await sizeOf(pathInside(finalDir, f.path))) !== f.size) missing.push(f);
  const totalBytes = missing.reduce((sum, f) => sum + f.size, 0);
  let doneBytes = 0;
  for (const file of missing) {
    await fetchOne(file, (bytes) =>
      options.onProgress?.({ file: file.path, loadedBytes: doneBytes + bytes, totalBytes }),
    );
    doneBytes += file.size;
  }
  // Everything verified: move into the model folder, the graph (listed last) last.
  if (genai && !missing.includes(genai)) missing.unshift(genai);
  for (const file of missing) await moveInto(pathInside(partDir, file.path), pathInside(finalDir, file.path));
  const merged = new Map([...(saved ?? []), ...listing].map((f) => [f.path, f]));
  await fs.writeFile(path.join(finalDir, LISTING_FILE), JSON.stringify([...merged.values()]));
  await removePartial(storageDir, id);
  return finalDir;
}

async function placeOrFetch(
  file: HubFile,
  finalDir: string,
  partDir: string,
  fetchOne: (file: HubFile, onBytes: (bytes: number) => void) => Promise<void>,
): Promise<void> {
  const inFinal = pathInside(finalDir, file.path);
  const inPart = pathInside(partDir, file.path);
  if ((await sizeOf(inPart)) === file.size) return;
  if ((await sizeOf(inFinal)) === file.size) {
    await fs.mkdir(path.dirname(inPart), { recursive: true });
    await fs.copyFile(inFinal, inPart);
    return;
  }
  await fetchOne(file, () => undefined);
}

async function moveInto(from: string, to: string): Promise<void> {
  if ((await sizeOf(from)) === null) return; // already moved by a run that stopped after it
  await fs.mkdir(path.dirname(to), { recursive: true });
  await fs.rename(from, to);
}

async function removePartial(storageDir: string, id: string): Promise<void> {
  await fs.rm(partialFolder(storageDir, id), { recursive: true, force: true });
  // Empty parents (.partial/<owner>, .partial) go too; a sibling's download keeps them.
  for (
    let dir = path.dirname(partialFolder(storageDir, id));
    dir.startsWith(path.join(storageDir, 'hub', '.partial'));
    dir = path.dirname(dir)
  ) {
    if (
      !(await fs.rmdir(dir).then(
        () => true,
        () => false,
      ))
    )
      break;
  }
}

/** The hashes a file is checked with: sha256 for LFS files, the git blob sha1 for files in git. */
function hashesFor(file: HubFile): { sha256: Hash | null; git: Hash | null } {
  const git = file.gitOid ? createHash('sha1').update(`blob ${file.size}\0`) : null;
  return { sha256: file.sha256 ? createHash('sha256') : null, git };
}

async function feedExisting(
  part: string,
  bytes: number,
  hashes: { sha256: Hash | null; git: Hash | null },
): Promise<void> {
  if (bytes === 0 || (!hashes.sha256 && !hashes.git)) return;
  for await (const chunk of createReadStream(part, { start: 0, end: bytes - 1 })) {
    hashes.sha256?.update(chunk as Buffer);
    hashes.git?.update(chunk as Buffer);
  }
}

/** Fetches one file to `dest` (via `dest.part`, resumed with Range), checked against the listing. */
async function downloadVerified(
  id: string,
  url: string,
  file: HubFile,
  dest: string,
  client: HubRequester,
  options: DownloadOptions,
  onBytes: (bytes: number) => void,
): Promise<void> {
  if ((await sizeOf(dest)) === file.size) {
    onBytes(file.size);
    return;
  }
  const part = `${dest}.part`;
  await fs.mkdir(path.dirname(part), { recursive: true });
  const cancelled = (): EngineError =>
    new EngineError(`Download of ${id} cancelled; ${file.path} resumes where it stopped next time.`);
  let drops = 0;
  for (;;) {
    if (options.signal?.aborted) throw cancelled();
    let have = (await sizeOf(part)) ?? 0;
    if (have > file.size) {
      await fs.rm(part, { force: true });
      have = 0;
    }
    let hashes = hashesFor(file);
    await feedExisting(part, have, hashes);
    let written = have;
    if (have < file.size || file.size === 0) {
      let response: Response;
      try {
        response = await client.get(url, {
          headers: have > 0 ? { Range: `bytes=${have}-` } : {},
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (error) {
        if (options.signal?.aborted) throw cancelled();
        if (++drops >= MAX_ATTEMPTS)
          throw new EngineError(`Cannot download ${id} (${url}): ${lineWithCause(error)}`, { cause: error });
        await delay(options, drops);
        continue;
      }
      const resumed = response.status === 206 && contentRangeStart(response.headers.get('content-range')) === have;
      if (!resumed && response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        if (response.status === 416) {
          await fs.rm(part, { force: true });
          continue;
        }
        throw new EngineError(`Cannot download ${id}: ${file.path} answered HTTP ${response.status}.`);
      }
      if (!resumed && have > 0) {
        hashes = hashesFor(file); // the server sent the whole file: start over
        written = 0;
      }
      const handle = await fs.open(part, resumed ? 'a' : 'w');
      const chunks = abortableChunks(response, options.signal);
      try {
        onBytes(written);
        for (let next = await chunks.read(); next; next = await chunks.read()) {
          if (written + next.length > file.size) throw new SizeError();
          await handle.write(next);
          hashes.sha256?.update(next);
          hashes.git?.update(next);
          written += next.length;
          onBytes(written);
        }
      } catch (error) {
        chunks.stop();
        await handle.close();
        if (error instanceof SizeError)
          return refuse(id, file, part, `it is larger than the listed ${file.size} bytes`);
        if (options.signal?.aborted) throw cancelled();
        if (++drops >= MAX_ATTEMPTS)
          throw new EngineError(
            `Download of ${id} failed at ${file.path}: the connection dropped ${drops} times (${firstLine(error)}); run again to resume.`,
          );
        await delay(options, drops);
        continue;
      }
      await handle.close();
      if (written < file.size) {
        if (++drops >= MAX_ATTEMPTS)
          throw new EngineError(
            `Download of ${id} failed at ${file.path}: it ended after ${written} of ${file.size} bytes ${drops} times; run again to resume.`,
          );
        await delay(options, drops);
        continue;
      }
    }
    const sha256 = hashes.sha256?.digest('hex');
    if (file.sha256 && sha256 !== file.sha256)
      return refuse(
        id,
        file,
        part,
        `its sha256 ${sha256?.slice(0, 12)}… is not the listed ${file.sha256.slice(0, 12)}…`,
      );
    const git = hashes.git?.digest('hex');
    if (file.gitOid && git !== file.gitOid)
      return refuse(
        id,
        file,
        part,
        `its git blob id ${git?.slice(0, 12)}… is not the listed ${file.gitOid.slice(0, 12)}…`,
      );
    await fs.rename(part, dest);
    return;
  }
}

class SizeError extends Error {}

/** The body's chunks (null at the end); an abort rejects a pending read at once (fetch's own abort can leave
 * a half-read body's read pending forever). */
function abortableChunks(
  response: Response,
  signal: AbortSignal | undefined,
): { read(): Promise<Uint8Array | null>; stop(): void } {
  const reader = response.body?.getReader();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined); // an abort after the last read is nobody's error
  const stop = (): void => {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    void reader?.cancel().catch(() => undefined);
  };
  return {
    async read() {
      if (!reader) return null;
      if (signal?.aborted) throw new Error('aborted');
      const next = await Promise.race([reader.read(), aborted]);
      if (next.done) {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        return null;
      }
      return next.value;
    },
    stop,
  };
}

async function refuse(id: string, file: HubFile, part: string, why: string): Promise<never> {
  await fs.rm(part, { force: true });
  throw new EngineError(`Refused ${file.path} from ${id}: ${why}; the file was deleted.`);
}

function contentRangeStart(header: string | null): number | null {
  const match = header ? /^bytes\s+(\d+)-/.exec(header) : null;
  return match ? Number(match[1]) : null;
}

function delay(options: DownloadOptions, attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, (options.retryDelayMs ?? 300) * attempt));
}
