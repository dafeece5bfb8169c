// The layers of CONTRIBUTING.md as lint rules: for each folder, the folders it must not import (so nothing
// imports upwards or sideways), and whether it may import `vscode`. One no-restricted-imports entry per file:
// eslint's flat config replaces a rule's options, it does not merge them, so the globs below do not overlap.

const FACE = 'Import the engine through src/engine/inspectApi.ts.';
const BENCH_ONLY = 'src/engine/benchInternals.ts is for the bench only; use src/engine/inspectApi.ts.';

/** Import specifiers (relative paths) that reach a folder of src/ or the webview. */
const folder = (name) => [`**/${name}/*`, `**/${name}`];
const NO_VSCODE = { name: 'vscode', message: 'Only extension.ts, panel/, cost/ and util/ import vscode.' };

/**
 * `files`: the layer; `deny`: folders (src/<name>, webview) it may not reach; `engine`: 'face' = only through
 * inspectApi.ts, 'bench' = inspectApi.ts or benchInternals.ts, 'all' = anything (the engine itself), false = none.
 */
const LAYERS = [
  { files: ['src/extension.ts'], deny: ['cli', 'worker', 'report', 'webview'], engine: false, vscode: true },
  { files: ['src/panel/**/*.ts'], deny: ['cli', 'cost', 'webview', 'extension'], engine: false, vscode: true },
  {
    files: ['src/cost/**/*.ts'],
    deny: ['cli', 'panel', 'worker', 'report', 'webview', 'extension'],
    engine: false,
    vscode: true,
  },
  {
    files: ['src/cli/**/*.ts'],
    deny: ['panel', 'worker', 'util', 'webview', 'extension'],
    engine: 'face',
    vscode: false,
  },
  {
    files: ['src/worker/**/*.ts'],
    deny: ['cli', 'panel', 'cost', 'report', 'webview', 'extension'],
    engine: 'face',
    vscode: false,
  },
  {
    files: ['src/engine/**/*.ts'],
    deny: ['cli', 'panel', 'cost', 'worker', 'report', 'util', 'webview', 'extension'],
    engine: 'all',
    vscode: false,
  },
  {
    files: ['src/report/**/*.ts'],
    deny: ['cli', 'panel', 'cost', 'worker', 'util', 'webview', 'extension'],
    engine: false,
    vscode: false,
  },
  {
    files: ['src/util/**/*.ts'],
    deny: ['cli', 'panel', 'cost', 'worker', 'report', 'webview', 'extension'],
    engine: false,
    vscode: true,
  },
  {
    files: ['src/shared/**/*.ts'],
    deny: ['cli', 'panel', 'cost', 'worker', 'report', 'util', 'webview', 'extension'],
    engine: false,
    vscode: false,
  },
  {
    files: ['webview/**/*.ts'],
    deny: ['cli', 'panel', 'cost', 'worker', 'report', 'util', 'extension'],
    engine: 'analysis',
    vscode: false,
  },
  { files: ['bench/**/*.ts'], deny: [], engine: 'bench', vscode: false },
];

function enginePatterns(engine) {
  if (engine === 'all') return [{ group: ['**/engine/benchInternals'], message: BENCH_ONLY }];
  if (engine === 'face') return [{ group: ['**/engine/*', '!**/engine/inspectApi'], message: FACE }];
  if (engine === 'bench')
    return [{ group: ['**/engine/*', '!**/engine/inspectApi', '!**/engine/benchInternals'], message: FACE }];
  if (engine === 'analysis')
    return [
      {
        group: ['**/engine/*', '!**/engine/analysis'],
        message: 'The webview reaches the engine only for its pure analysis/ modules.',
      },
    ];
  return [{ group: folder('engine'), message: 'This layer reaches the engine through the worker (src/worker/).' }];
}

export const layerRules = LAYERS.map(({ files, deny, engine, vscode }) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: vscode ? [] : [NO_VSCODE],
        patterns: [
          ...(deny.length
            ? [
                {
                  group: deny.flatMap(folder),
                  message: 'An upward or sideways import: see the layers in CONTRIBUTING.md.',
                },
              ]
            : []),
          ...enginePatterns(engine),
        ],
      },
    ],
  },
}));
