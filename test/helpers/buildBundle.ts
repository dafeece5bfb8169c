// Bundles an entry point the way esbuild.mjs does, into .cache/test-build/ inside the repository (so the
// external onnxruntime-node still resolves from node_modules). Tests run the real bundle, not tsx.
import * as path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');

export async function buildBundle(entry: string, name: string): Promise<string> {
  const outfile = path.join(ROOT, '.cache', 'test-build', `${name}.js`);
  await build({
    entryPoints: [path.join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'onnxruntime-node'],
    logLevel: 'silent',
  });
  return outfile;
}
