// Helpers for the packaging tests: build (or reuse) a VSIX with scripts/package.mjs, list and extract it.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import yauzl from 'yauzl';

export const repoRoot = path.resolve(__dirname, '../../..');

/** Builds out/<name> for a target unless it is newer than every input; returns its absolute path. */
export function ensureVsix(fileName: string, target?: string): string {
  const out = path.join(repoRoot, 'out', fileName);
  const args = [path.join(repoRoot, 'scripts/package.mjs'), '--out', out, '--if-stale'];
  if (target) args.push('--target', target);
  const result = spawnSync(process.execPath, args, { cwd: repoRoot, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `scripts/package.mjs failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return out;
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (error, zip) => (error ? reject(error) : resolve(zip)));
  });
}

/** Visits every entry; `onEntry` may return a promise, and the next entry is read after it settles. */
async function forEachEntry(
  file: string,
  onEntry: (zip: yauzl.ZipFile, entry: yauzl.Entry) => Promise<void> | void,
): Promise<void> {
  const zip = await openZip(file);
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      Promise.resolve(onEntry(zip, entry)).then(() => zip.readEntry(), reject);
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
}

export async function listEntries(file: string): Promise<string[]> {
  const names: string[] = [];
  await forEachEntry(file, (_zip, entry) => {
    names.push(entry.fileName);
  });
  return names;
}

export async function readEntryText(file: string, name: string): Promise<string> {
  let text: string | undefined;
  await forEachEntry(file, async (zip, entry) => {
    if (entry.fileName === name) text = (await readStream(zip, entry)).toString('utf8');
  });
  if (text === undefined) throw new Error(`${name} is not in ${file}`);
  return text;
}

/** Extracts every entry under `into`, keeping the zip's paths. */
export async function extractAll(file: string, into: string): Promise<void> {
  await forEachEntry(file, async (zip, entry) => {
    if (entry.fileName.endsWith('/')) return;
    const target = path.join(into, entry.fileName);
    if (!target.startsWith(into + path.sep)) throw new Error(`unsafe entry ${entry.fileName}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, await readStream(zip, entry));
  });
}

function readStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) return reject(error);
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => resolve(Buffer.concat(chunks)));
      stream.on('error', reject);
    });
  });
}
