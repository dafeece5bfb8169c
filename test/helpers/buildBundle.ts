// Bundles an entry point the way esbuild.mjs does, into .cache/test-build/ inside the repository (so the
// external onnxruntime-node still resolves from node_modules). Tests run the real bundle, not tsx.
import * as path from 'node:path';
import { build, type BuildOptions } from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');

/** esbuild.mjs's options for a Node bundle (the bench builds its worker with them too). */
export const NODE_BUNDLE: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode', 'onnxruntime-node'],
  logLevel: 'silent',
};

export async function buildBundle(entry: string, name: string): Promise<string> {
  const outfile = path.join(ROOT, '.cache', 'test-build', `${name}.js`);
  await build({ ...NODE_BUNDLE, entryPoints: [path.join(ROOT, entry)], outfile });
  return outfile;
}
