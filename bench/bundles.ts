// Fresh bundles of the worker and the webview for the benchmark, built the way esbuild.mjs builds them,
// into .cache/bench-build/ (inside the repository, so the external onnxruntime-node resolves).
import * as path from 'node:path';
import { build } from 'esbuild';
import { NODE_BUNDLE } from '../test/helpers/buildBundle';

export interface BenchBundles {
  readonly workerJs: string;
  /** The cost features' tokenizer worker (src/cost/tokenizerWorker.ts), as the extension bundles it. */
  readonly tokenizerWorkerJs: string;
  readonly webviewJs: string;
  readonly webviewCss: string;
}

/** `name` keeps concurrent suites (a full run and the tiny test) from rewriting each other's bundles. */
export async function buildBenchBundles(root: string, name: string): Promise<BenchBundles> {
  const outdir = path.join(root, '.cache', name);
  await build({
    ...NODE_BUNDLE,
    entryPoints: {
      worker: path.join(root, 'src', 'worker', 'worker.ts'),
      tokenizerWorker: path.join(root, 'src', 'cost', 'tokenizerWorker.ts'),
    },
    outdir,
  });
  await build({
    entryPoints: { webview: path.join(root, 'webview', 'main.ts') },
    outdir,
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    logLevel: 'silent',
  });
  return {
    workerJs: path.join(outdir, 'worker.js'),
    tokenizerWorkerJs: path.join(outdir, 'tokenizerWorker.js'),
    webviewJs: path.join(outdir, 'webview.js'),
    webviewCss: path.join(outdir, 'webview.css'),
  };
}

/** The in-page half of the webview benchmark (webviewHarness.ts), as one script. */
export async function buildWebviewHarness(root: string): Promise<string> {
  const result = await build({
    entryPoints: [path.join(root, 'bench', 'webviewHarness.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}
