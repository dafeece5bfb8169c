// A Hub repository's file listing, from the Hub API (`/api/models/{id}/tree/{revision}?recursive=true`,
// paged through its `Link: <…>; rel="next"` header), and the choice of the files a dtype needs. Every path
// the server names is checked before it is used as a path: relative, '/'-separated, no `.` or `..` part,
// no drive or backslash, so a listing cannot write outside the model folder.
import * as path from 'node:path';
import { lineWithCause } from '../../shared/errorText';
import { EngineError } from '../engineError';
import type { ChooseOptions, ListedFile, ModelDtype } from './modelFiles';
import { filesForDtype } from './modelFiles';

/** One file of the listing: LFS files carry the sha256 of their content, the others their git blob id. */
export interface HubFile extends ListedFile {
  readonly size: number;
  /** sha256 (hex) of the content, from the entry's LFS metadata. */
  readonly sha256?: string;
  /** The git blob id (sha1 of "blob <size>\0" + content), for files stored in git itself. */
  readonly gitOid?: string;
}

/** The files next to the graph that a model folder uses, downloaded when the repository has them. */
export const SIDE_FILES = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
  'chat_template.json',
  'card.json',
];
export const GENAI_CONFIG = 'genai_config.json';

const HEX64 = /^[0-9a-f]{64}$/;
const HEX40 = /^[0-9a-f]{40}$/;

/** True when `name` is a safe relative path inside a folder (the listing and genai_config.json name files). */
export function isSafeRepoPath(name: string): boolean {
  if (
    !name ||
    name.length > 1000 ||
    name.startsWith('/') ||
    name.includes('\\') ||
    name.includes('\0') ||
    /^[A-Za-z]:/.test(name)
  )
    return false;
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && !part.includes(':'));
}

/** The absolute path of repository file `name` under `folder`, or an EngineError when it would leave it. */
export function pathInside(folder: string, name: string): string {
  const target = path.resolve(folder, ...name.split('/'));
  const relative = path.relative(path.resolve(folder), target);
  if (!isSafeRepoPath(name) || relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new EngineError(`Refused the file name "${name}": not a relative path inside the model folder.`);
  }
  return target;
}

interface TreeEntry {
  readonly type?: unknown;
  readonly path?: unknown;
  readonly size?: unknown;
  readonly oid?: unknown;
  readonly lfs?: { readonly oid?: unknown; readonly size?: unknown } | null;
}

/** One page's entries → files; unsafe names are refused outright (a server that sends one is not trusted). */
export function parseTreeEntries(entries: unknown, id: string): HubFile[] {
  if (!Array.isArray(entries)) throw new EngineError(`The Hub's file listing for ${id} is not a list.`);
  const files: HubFile[] = [];
  for (const raw of entries as TreeEntry[]) {
    if (typeof raw !== 'object' || raw === null || raw.type !== 'file' || typeof raw.path !== 'string') continue;
    if (!isSafeRepoPath(raw.path))
      throw new EngineError(
        `The Hub's file listing for ${id} names "${raw.path}", which is not a safe relative path; nothing was downloaded.`,
      );
    const lfsSize = typeof raw.lfs?.size === 'number' ? raw.lfs.size : undefined;
    const size = lfsSize ?? (typeof raw.size === 'number' ? raw.size : NaN);
    if (!Number.isSafeInteger(size) || size < 0)
      throw new EngineError(`The Hub's file listing for ${id} gives no size for ${raw.path}.`);
    const sha = typeof raw.lfs?.oid === 'string' ? raw.lfs.oid.replace(/^sha256:/, '').toLowerCase() : undefined;
    const oid = typeof raw.oid === 'string' ? raw.oid.toLowerCase() : undefined;
    files.push({
      path: raw.path,
      size,
      ...(sha && HEX64.test(sha) ? { sha256: sha } : {}),
      ...(!raw.lfs && oid && HEX40.test(oid) ? { gitOid: oid } : {}),
    });
  }
  return files;
}

/** The `rel="next"` URL of a Link header, resolved against the page's URL. */
export function nextPageUrl(link: string | null, base: string): string | null {
  if (!link) return null;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return new URL(match[1], base).toString();
  }
  return null;
}

export interface HubRequester {
  readonly host: string;
  /** GET with the client's headers; `signal` aborts. */
  get(url: string, init?: { headers?: Record<string, string>; signal?: AbortSignal }): Promise<Response>;
}

const MAX_PAGES = 100;

/** Lists every file of repository `id` at `revision`. */
export async function listHubFiles(
  id: string,
  revision: string,
  client: HubRequester,
  signal?: AbortSignal,
): Promise<HubFile[]> {
  let url: string | null =
    `${client.host.replace(/\/+$/, '')}/api/models/${id}/tree/${encodeURIComponent(revision)}?recursive=true`;
  const files: HubFile[] = [];
  for (let page = 0; url && page < MAX_PAGES; page++) {
    let response: Response;
    try {
      response = await client.get(url, { headers: { Accept: 'application/json' }, ...(signal ? { signal } : {}) });
    } catch (error) {
      if (signal?.aborted) throw new EngineError(`Download of ${id} cancelled.`);
      throw new EngineError(`Cannot list the files of ${id} (${url}): ${lineWithCause(error)}`, { cause: error });
    }
    if (response.status === 404 || response.status === 401) {
      throw new EngineError(
        `Cannot download ${id}: the Hub has no model ${id} at revision ${revision} (HTTP ${response.status}${response.status === 401 ? '; a private or gated model needs a token: run "Prompt Attention: Set Hugging Face Token" or set HF_TOKEN' : ''}).`,
      );
    }
    if (response.status !== 200)
      throw new EngineError(`Cannot list the files of ${id}: the Hub answered HTTP ${response.status}.`);
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new EngineError(`The Hub's file listing for ${id} is not JSON.`);
    }
    files.push(...parseTreeEntries(body, id));
    url = nextPageUrl(response.headers.get('link'), url);
  }
  return files;
}

/** What to fetch for `dtype`: the side files the repository has, then the graph's data, the graph last. */
export function filesToDownload(
  listing: readonly HubFile[],
  dtype: ModelDtype,
  options: ChooseOptions = {},
): HubFile[] {
  const byPath = new Map(listing.map((f) => [f.path, f]));
  const model = filesForDtype(listing, dtype, options);
  const side = SIDE_FILES.filter((f) => byPath.has(f) && !model.includes(f));
  const graph = model[0];
  const ordered = [...side, ...model.slice(1), graph];
  return ordered.map((p) => byPath.get(p) as HubFile);
}
