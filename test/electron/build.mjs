// Compiles the @vscode/test-electron runner and suite to out/electron (CommonJS; vscode stays external).
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';

const entryPoints = [
  'test/electron/runTest.ts',
  'test/electron/suite/index.ts',
  ...fs
    .readdirSync('test/electron/suite')
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => `test/electron/suite/${file}`),
];

await esbuild.build({
  entryPoints,
  outbase: 'test/electron',
  outdir: 'out/electron',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode', 'mocha', '@vscode/test-electron'],
  logLevel: 'warning',
});
