// The packaged VSIX: what `npm run package` ships, and that the shipped runtime actually loads.
// Builds out/prompt-attention.vsix (reused while newer than its inputs; the e2e tests install the same file).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { builtinModules } from 'node:module';
import { ensureVsix, extractAll, listEntries, readEntryText, repoRoot } from './vsixFiles';

const HOST_TARGET = `${process.platform}-${process.arch}`;
const ORT_BIN = 'extension/node_modules/onnxruntime-node/bin/napi-v6/';
const RUNTIME_MODULES = new Set(['onnxruntime-node', 'onnxruntime-common']);

const vsixPath = ensureVsix('prompt-attention.vsix');
const entriesPromise = listEntries(vsixPath);

test('the VSIX holds the bundles, the media, the manifest and the embedded model', async () => {
  const entries = new Set(await entriesPromise);
  const required = [
    'extension.vsixmanifest',
    'extension/package.json',
    'extension/dist/extension.js',
    'extension/dist/worker.js',
    'extension/dist/tokenizerWorker.js',
    'extension/dist/cli.js',
    'extension/dist/webview.js',
    'extension/dist/webview.css',
    'extension/media/icon.png',
    'extension/models/pa-mini-llama/config.json',
    'extension/models/pa-mini-llama/tokenizer.json',
    'extension/models/pa-mini-llama/tokenizer_config.json',
    'extension/models/pa-mini-llama/card.json',
    'extension/models/pa-mini-llama/README.md',
    'extension/models/pa-mini-llama/onnx/model.onnx',
  ];
  // The cost targets' tokenizers, read at run time from <extension>/tokenizers.
  for (const file of fs.readdirSync(path.join(repoRoot, 'tokenizers'))) {
    if (file.endsWith('.json.gz')) required.push(`extension/tokenizers/${file}`);
  }
  const missing = required.filter((name) => !entries.has(name));
  assert.deepEqual(missing, [], `missing from the VSIX: ${missing.join(', ')}`);
});

test('the VSIX holds onnxruntime-node for this platform only, with onnxruntime-common', async () => {
  const entries = await entriesPromise;
  const [os_, arch] = HOST_TARGET.split('-');
  const binaryDir = `${ORT_BIN}${os_}/${arch}/`;
  assert.ok(entries.includes(`${binaryDir}onnxruntime_binding.node`), 'the native binding is missing');
  const sharedLibrary = { linux: 'libonnxruntime.so.1', win32: 'onnxruntime.dll', darwin: 'libonnxruntime.1.dylib' }[
    os_ ?? ''
  ];
  assert.ok(sharedLibrary && entries.includes(`${binaryDir}${sharedLibrary}`), `${sharedLibrary} is missing`);
  const otherPlatforms = entries.filter((name) => name.startsWith(ORT_BIN) && !name.startsWith(binaryDir));
  assert.deepEqual(otherPlatforms, [], 'binaries of other platforms are shipped');
  assert.ok(entries.includes('extension/node_modules/onnxruntime-node/dist/index.js'));
  assert.ok(entries.includes('extension/node_modules/onnxruntime-common/dist/cjs/index.js'));
  const manifest = await readEntryText(vsixPath, 'extension.vsixmanifest');
  assert.match(manifest, new RegExp(`TargetPlatform="${HOST_TARGET}"`));
});

test('the VSIX holds no sources, tests, recipe, source maps or dev dependencies', async () => {
  const entries = await entriesPromise;
  const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const forbidden = entries.filter(
    (name) =>
      /^extension\/(src|test|webview|bench|scripts|examples|out|\.e2e|\.ci|models\/recipe)\//.test(name) ||
      /\.(ts|map|vsix)$/.test(name) ||
      /(^|\/)(tsconfig\.json|esbuild\.mjs|eslint\.config\.mjs|package-lock\.json)$/.test(name),
  );
  assert.deepEqual(forbidden, []);
  const shippedModules = new Set(
    entries
      .map((name) => /^extension\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(name)?.[1])
      .filter((name): name is string => name !== undefined),
  );
  assert.deepEqual([...shippedModules].sort(), [...RUNTIME_MODULES].sort());
  for (const dev of Object.keys(manifest.devDependencies))
    assert.ok(!shippedModules.has(dev), `dev dependency ${dev} is shipped`);
});

test('every image the packaged README shows is in the VSIX', async () => {
  const entries = new Set(await entriesPromise);
  const readmeName = [...entries].find((name) => /^extension\/readme\.md$/i.test(name));
  assert.ok(readmeName, 'the README is not in the VSIX');
  const readme = await readEntryText(vsixPath, readmeName);
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img[^>]+src="([^"]+)"/g)].map(
    (match) => match[1] ?? match[2] ?? '',
  );
  const missing = images
    .filter((src) => !/^(https?:|data:)/.test(src))
    .filter((src) => !entries.has(`extension/${src.replace(/^\.\//, '')}`));
  assert.deepEqual(missing, [], 'README images missing from the VSIX');
});

test('the packaged manifest points at the bundle and contributes the command', async () => {
  const packaged = JSON.parse(await readEntryText(vsixPath, 'extension/package.json')) as {
    main: string;
    contributes: { commands: { command: string; title: string }[] };
    activationEvents?: string[];
  };
  assert.equal(packaged.main, './dist/extension.js');
  assert.ok(
    packaged.contributes.commands.some(
      (command) => command.command === 'promptAttention.inspect' && command.title === 'Inspect Attention',
    ),
  );
  assert.ok(!(packaged.activationEvents ?? []).includes('*'), 'the extension must not activate on *');
});

test('every module the bundles load is built in, vscode, or shipped (never sharp or onnxruntime-web)', async () => {
  const bundles = (await entriesPromise).filter((name) => /^extension\/dist\/[^/]+\.js$/.test(name));
  const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
  const unresolved = new Set<string>();
  for (const bundle of bundles) {
    const source = await readEntryText(vsixPath, bundle);
    // require("x"), import("x") and static imports of bare specifiers (relative paths are bundled).
    for (const match of source.matchAll(
      /(?:\brequire\(|\bimport\(|\bfrom)\s*["']((?:node:)?@?[a-z0-9][\w.-]*(?:\/[\w.-]+)*)["']/g,
    )) {
      const specifier = match[1] ?? '';
      const packageName = specifier.startsWith('@')
        ? specifier.split('/').slice(0, 2).join('/')
        : (specifier.split('/')[0] ?? '');
      if (builtins.has(specifier) || builtins.has(packageName) || packageName === 'vscode') continue;
      if (RUNTIME_MODULES.has(packageName)) continue;
      unresolved.add(`${bundle}: ${specifier}`);
    }
  }
  assert.deepEqual([...unresolved], []);
});

describe('the extracted VSIX alone', () => {
  // Extracted outside the repository and run with cwd there, so nothing resolves from the repo's node_modules.
  let dir = '';
  let extensionDir = '';
  let prompt = '';
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pa-vsix-'));
    await extractAll(vsixPath, dir);
    extensionDir = path.join(dir, 'extension');
    prompt = path.join(dir, 'prompt.md');
    fs.writeFileSync(prompt, 'Never ask for a password.\nIf you do not know, say so and offer to open a ticket.\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const runNode = (args: string[]) =>
    spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });

  test('the shipped onnxruntime-node loads and runs the embedded model', () => {
    const loader = `
      const path = require('node:path');
      const extensionDir = process.argv[1];
      const resolved = require.resolve('onnxruntime-node', { paths: [path.join(extensionDir, 'dist')] });
      const ort = require(resolved);
      (async () => {
        const session = await ort.InferenceSession.create(path.join(extensionDir, 'models/pa-mini-llama/onnx/model.onnx'));
        const tensor = (values) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);
        const feeds = {};
        for (const name of session.inputNames) {
          feeds[name] = name === 'input_ids' ? tensor([1, 2, 3]) : name === 'position_ids' ? tensor([0, 1, 2]) : tensor([1, 1, 1]);
        }
        const output = await session.run(feeds);
        const logits = output.logits ?? output[session.outputNames[0]];
        process.stdout.write(JSON.stringify({ dims: logits.dims, resolved }));
      })().catch((error) => { console.error(error); process.exit(1); });
    `;
    const result = runNode(['-e', loader, extensionDir]);
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { dims: number[]; resolved: string };
    assert.ok(
      report.resolved.startsWith(extensionDir),
      `onnxruntime-node resolved outside the VSIX: ${report.resolved}`,
    );
    assert.deepEqual(report.dims.slice(0, 2), [1, 3]);
  });

  // Also proves the engine does not load sharp or onnxruntime-web, which are not shipped.
  test('the shipped command line inspects a prompt with the embedded model', () => {
    const out = path.join(dir, 'report.json');
    const result = runNode([
      path.join(extensionDir, 'dist/cli.js'),
      'inspect',
      prompt,
      '--format',
      'json',
      '--out',
      out,
    ]);
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as { tokens?: unknown[]; result?: { tokens?: unknown[] } };
    const tokens = report.tokens ?? report.result?.tokens ?? [];
    assert.ok(tokens.length > 5, 'the report has no tokens');
  });

  test('the shipped command line counts tokens for a Llama target with the shipped tokenizers', () => {
    const result = runNode([
      path.join(extensionDir, 'dist/cli.js'),
      'cost',
      prompt,
      '--target',
      'llama-3.1-8b',
      '--json',
    ]);
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const cost = JSON.parse(result.stdout) as { tokens: number };
    assert.ok(cost.tokens > 5);
  });
});

test("--target selects that platform's onnxruntime-node binaries", async () => {
  const winVsix = ensureVsix('prompt-attention-win32-x64.vsix', 'win32-x64');
  const entries = await listEntries(winVsix);
  const binaries = entries
    .filter((name) => name.startsWith(ORT_BIN))
    .map((name) => name.slice(ORT_BIN.length))
    .sort();
  assert.ok(binaries.length > 0);
  assert.ok(
    binaries.every((name) => name.startsWith('win32/x64/')),
    binaries.join(', '),
  );
  assert.ok(binaries.includes('win32/x64/onnxruntime_binding.node'));
  assert.ok(binaries.includes('win32/x64/onnxruntime.dll'));
  assert.match(await readEntryText(winVsix, 'extension.vsixmanifest'), /TargetPlatform="win32-x64"/);
});
