// Downloads a Hub model folder on first use, atomically: files go into a temporary folder next to the
// destination, which is renamed into place only when every file is complete, so a failed or interrupted
// download never leaves a partial model that a later run would load.
//
// URLs follow the Hub layout that transformers.js' hub code uses ({host}{model}/resolve/{revision}/{file});
// the host is the `endpoint` option, else $HF_ENDPOINT, else https://huggingface.co/ (tests point it at
// 127.0.0.1). transformers.js does not export its file-level download, and importing it would load its
// image code, which needs `sharp` (not shipped); so the files are fetched here with Node's fetch.
import { createWriteStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { EngineError } from '../engineError';

export const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'];
export const OPTIONAL_FILES = ['onnx/model.onnx_data', 'card.json'];
const HUB_ID = /^(?:[A-Za-z0-9][\w.-]*\/)?[A-Za-z0-9][\w.-]*$/;

export interface DownloadProgress {
  readonly file: string;
  readonly loadedBytes: number;
  readonly totalBytes?: number;
}

export interface DownloadOptions {
  /** The Hub host (default $HF_ENDPOINT or https://huggingface.co/); tests use http://127.0.0.1:PORT/. */
  readonly endpoint?: string;
  readonly revision?: string;
  readonly onProgress?: (progress: DownloadProgress) => void;
}

export function isHubId(value: string): boolean {
  return HUB_ID.test(value) && !value.split('/').some((part) => part === '.' || part === '..');
}

/** Where a downloaded Hub model lives inside the storage folder. */
export function hubModelFolder(storageDir: string, id: string): string {
  return path.join(storageDir, 'hub', ...id.split('/'));
}

interface FetchResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: unknown;
}

export const DEFAULT_HUB_HOST = 'https://huggingface.co/';
const PATH_TEMPLATE = '{model}/resolve/{revision}/';

function remoteUrl(id: string, file: string, options: DownloadOptions): { url: string; fetch: (url: string) => Promise<FetchResponse> } {
  const host = options.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB_HOST;
  const route = PATH_TEMPLATE.replaceAll('{model}', id).replaceAll('{revision}', encodeURIComponent(options.revision ?? 'main'));
  const join = (...parts: string[]): string => parts.map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, ''))).join('/');
  const headers: Record<string, string> = { 'User-Agent': 'prompt-attention' };
  const token = process.env.HF_TOKEN ?? process.env.HF_ACCESS_TOKEN;
  if (token && /^https:\/\/(?:huggingface\.co|hf\.co)\//.test(host)) headers.Authorization = `Bearer ${token}`;
  return { url: join(host, route, file), fetch: (url) => fetch(url, { headers }) as Promise<FetchResponse> };
}

/** Downloads `id` into storage (if not there yet) and returns the model folder. */
export async function ensureHubModel(id: string, storageDir: string, options: DownloadOptions = {}): Promise<string> {
  if (!isHubId(id)) throw new EngineError(`"${id}" is not a Hub model id (owner/name).`);
  const finalDir = hubModelFolder(storageDir, id);
  try {
    await fs.access(path.join(finalDir, 'onnx', 'model.onnx'));
    return finalDir;
  } catch {
    // Not downloaded yet.
  }
  await fs.mkdir(path.dirname(finalDir), { recursive: true });
  const tempDir = await fs.mkdtemp(path.join(storageDir, 'hub', '.partial-'));
  try {
    let loaded = 0;
    let total = 0;
    for (const file of [...REQUIRED_FILES, ...OPTIONAL_FILES]) {
      const required = REQUIRED_FILES.includes(file);
      const { url, fetch } = remoteUrl(id, file, options);
      let response: FetchResponse;
      try {
        response = await fetch(url);
      } catch (error) {
        throw new EngineError(`Cannot download ${id} (${url}): ${error instanceof Error ? error.message : String(error)}`);
      }
      if (response.status === 404 && !required) continue;
      if (response.status !== 200 || !response.body) {
        throw new EngineError(`Cannot download ${id}: ${file} answered HTTP ${response.status}${response.status === 404 ? ' (not in the repository; it needs onnx/model.onnx)' : ''}.`);
      }
      const length = Number(response.headers.get('content-length') ?? NaN);
      if (Number.isFinite(length)) total += length;
      const target = path.join(tempDir, ...file.split('/'));
      await fs.mkdir(path.dirname(target), { recursive: true });
      let fileBytes = 0;
      const body = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
      body.on('data', (chunk: Buffer) => {
        fileBytes += chunk.length;
        loaded += chunk.length;
        options.onProgress?.({ file, loadedBytes: loaded, ...(total > 0 ? { totalBytes: Math.max(total, loaded) } : {}) });
      });
      try {
        await pipeline(body, createWriteStream(target));
      } catch (error) {
        throw new EngineError(`Download of ${id} failed at ${file}: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (Number.isFinite(length) && fileBytes !== length) {
        throw new EngineError(`Download of ${id} failed: ${file} ended after ${fileBytes} of ${length} bytes.`);
      }
    }
    try {
      await fs.rename(tempDir, finalDir);
    } catch (error) {
      // Someone else completed the same download first: keep theirs.
      await fs.access(path.join(finalDir, 'onnx', 'model.onnx')).catch(() => {
        throw error;
      });
    }
    return finalDir;
  } finally {
    await fs.rm(tempDir, { recursive: true, force: true });
  }
}
