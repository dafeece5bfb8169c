// A local HTTP server on 127.0.0.1 that serves model folders in the Hub's URL layout:
// /{owner}/{name}/resolve/{revision}/{file}. `breakOn` files are cut off halfway (connection dropped).
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export interface HubServer {
  readonly endpoint: string;
  readonly requests: string[];
  readonly breakOn: Set<string>;
  close(): Promise<void>;
}

/** `repos` maps "owner/name" to a local model folder. */
export async function startHubServer(repos: Record<string, string>): Promise<HubServer> {
  const requests: string[] = [];
  const breakOn = new Set<string>();
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '');
    requests.push(url);
    const match = /^\/([^/]+\/[^/]+)\/resolve\/main\/(.+)$/.exec(url);
    const folder = match ? repos[match[1]] : undefined;
    if (!match || !folder) {
      res.writeHead(404).end('not found');
      return;
    }
    const file = match[2];
    fs.readFile(path.join(folder, file)).then(
      (body) => {
        res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream' });
        if (breakOn.has(file)) {
          res.write(body.subarray(0, body.length >> 1), () => res.destroy());
          return;
        }
        // Two chunks, so progress is reported more than once.
        res.write(body.subarray(0, body.length >> 1));
        res.end(body.subarray(body.length >> 1));
      },
      () => res.writeHead(404).end('not found'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    breakOn,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
