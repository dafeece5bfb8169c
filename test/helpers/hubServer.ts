// A local HTTP server on 127.0.0.1 that serves model folders the way the Hub does:
// - the API listing /api/models/{owner}/{name}/tree/{revision}?recursive=true, paged with a Link header,
//   with LFS metadata (sha256 and size) for .onnx files and their data, git blob ids for the rest;
// - the files at /{owner}/{name}/resolve/{revision}/{file}, honouring `Range: bytes=N-` with 206.
// Faults for tests: `drop` cuts a file's response after some bytes (a dropped connection), `corrupt` serves
// a file with one byte changed (the listing keeps the true hash), `extraEntries` adds raw listing entries.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface DropFault {
  /** Bytes of the file to send before the connection is cut. */
  readonly afterBytes: number;
  /** How many responses to cut (then the file is served whole). */
  times: number;
}

export interface HubServer {
  readonly endpoint: string;
  /** Every request, as "GET <url>" plus " range=<header>" when it asked for a range. */
  readonly requests: string[];
  readonly drop: Map<string, DropFault>;
  readonly corrupt: Set<string>;
  /** Raw entries appended to the listing of every repository (e.g. unsafe names). */
  readonly extraEntries: object[];
  /** Entries per listing page (default 1000). */
  pageSize: number;
  close(): Promise<void>;
}

const LFS = /\.onnx(?:_data|\.data)?(?:[._-]?\d+)?$/;

async function walk(folder: string, sub = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(path.join(folder, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(`${rel}/`, ...(await walk(folder, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

async function listing(folder: string): Promise<object[]> {
  const entries: object[] = [];
  for (const rel of await walk(folder)) {
    if (rel.endsWith('/')) {
      entries.push({ type: 'directory', oid: '0'.repeat(40), size: 0, path: rel.slice(0, -1) });
      continue;
    }
    const body = await fs.readFile(path.join(folder, rel));
    if (LFS.test(rel)) {
      const sha = createHash('sha256').update(body).digest('hex');
      const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize ${body.length}\n`;
      const pointerOid = createHash('sha1').update(`blob ${pointer.length}\0${pointer}`).digest('hex');
      entries.push({
        type: 'file',
        oid: pointerOid,
        size: body.length,
        lfs: { oid: sha, size: body.length, pointerSize: pointer.length },
        path: rel,
      });
    } else {
      const oid = createHash('sha1').update(`blob ${body.length}\0`).update(body).digest('hex');
      entries.push({ type: 'file', oid, size: body.length, path: rel });
    }
  }
  return entries;
}

/** `repos` maps "owner/name" to a local model folder. */
export async function startHubServer(repos: Record<string, string>): Promise<HubServer> {
  const requests: string[] = [];
  const drop = new Map<string, DropFault>();
  const corrupt = new Set<string>();
  const extraEntries: object[] = [];
  const state = { pageSize: 1000 };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const range = req.headers.range;
    requests.push(`GET ${decodeURIComponent(url.pathname)}${url.search}${range ? ` range=${range}` : ''}`);
    const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/main$/.exec(url.pathname);
    if (tree) {
      const folder = repos[tree[1]];
      if (!folder) return void res.writeHead(404).end('{"error":"Repository not found"}');
      void listing(folder).then((all) => {
        const entries = [...all, ...extraEntries];
        const from = Number(url.searchParams.get('cursor') ?? 0);
        const page = entries.slice(from, from + state.pageSize);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (from + state.pageSize < entries.length) {
          headers.link = `<http://${req.headers.host}${url.pathname}?recursive=true&cursor=${from + state.pageSize}>; rel="next"`;
        }
        res.writeHead(200, headers).end(JSON.stringify(page));
      });
      return;
    }
    const match = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(decodeURIComponent(url.pathname));
    const folder = match ? repos[match[1]] : undefined;
    if (!match || !folder) return void res.writeHead(404).end('not found');
    const file = match[2];
    fs.readFile(path.join(folder, file)).then(
      (whole) => {
        let body = whole;
        if (corrupt.has(file)) {
          body = Buffer.from(whole);
          body[body.length >> 1] ^= 0xff;
        }
        const start = range ? Number(/^bytes=(\d+)-$/.exec(range)?.[1] ?? NaN) : 0;
        if (range && !(start >= 0 && start < body.length)) return void res.writeHead(416).end();
        const sent = body.subarray(start);
        const headers = {
          'content-length': sent.length,
          'content-type': 'application/octet-stream',
          'accept-ranges': 'bytes',
        };
        if (range)
          res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
        else res.writeHead(200, headers);
        const fault = drop.get(file);
        if (fault && fault.times > 0) {
          fault.times--;
          const cut = Math.max(0, Math.min(sent.length - 1, fault.afterBytes - start));
          res.write(sent.subarray(0, cut), () => res.destroy());
          return;
        }
        // Two chunks, so progress is reported more than once.
        res.write(sent.subarray(0, sent.length >> 1));
        res.end(sent.subarray(sent.length >> 1));
      },
      () => res.writeHead(404).end('not found'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    drop,
    corrupt,
    extraEntries,
    get pageSize() {
      return state.pageSize;
    },
    set pageSize(value: number) {
      state.pageSize = value;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
