// Builds every bundle: the extension host, the model worker, the tokenizer worker, the command line and the webview.
// Usage: node esbuild.mjs [--watch] [--production]
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// The native module (and the host's vscode) stays outside the bundles; onnxruntime-node ships in node_modules inside
// the VSIX.
const nodeExternals = ['vscode', 'onnxruntime-node'];

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
  legalComments: 'none',
};

/** A Node bundle dist/<name>.js of `entry` (CommonJS for the extension host and worker threads). */
const nodeBundle = (name, entry, extra = {}) => ({
  ...common,
  entryPoints: { [name]: entry },
  outdir: 'dist',
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: nodeExternals,
  ...extra,
});

/** @type {esbuild.BuildOptions[]} */
const builds = [
  nodeBundle('extension', 'src/extension.ts'),
  nodeBundle('worker', 'src/worker/worker.ts'),
  nodeBundle('tokenizerWorker', 'src/cost/tokenizerWorker.ts'),
  nodeBundle('cli', 'src/cli/cli.ts', { banner: { js: '#!/usr/bin/env node' } }),
  {
    ...common,
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
  },
];

if (watch) {
  const contexts = await Promise.all(builds.map((options) => esbuild.context(options)));
  await Promise.all(contexts.map((context) => context.watch()));
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
