// Builds the VSIX: production bundles, the files .vscodeignore lets through, and the runtime node_modules
// for one target platform (onnxruntime-node's binding and shared library for that platform only).
//
// Usage: node scripts/package.mjs [--target linux-x64] [--out file.vsix] [--if-stale] [--verbose]
//   --target    VS Code target platform; default: this machine's. Selects onnxruntime-node's binaries.
//   --out       output path; default prompt-attention-<version>.vsix (prompt-attention-<target>-<version>.vsix
//               when --target is given).
//   --if-stale  do nothing when --out exists and is newer than every input.
//   --verbose   show the output of the production build and of vsce (shown anyway when they fail).
//
// Why not plain `vsce package`: with dependencies vsce copies all of node_modules (hundreds of MB of dev
// and build-time packages); with --no-dependencies it copies none. So vsce packages the whitelisted files
// from a staging folder and this script then adds the few runtime modules the bundles load.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import yauzl from 'yauzl';
import yazl from 'yazl';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/** Runtime modules the bundles keep external and load; everything else is bundled or must not be needed. */
const RUNTIME_MODULES = ['onnxruntime-node', 'onnxruntime-common'];
/** The files the staging folder gets copies of (where they exist). */
const STAGED_FILES = [
  'package.json',
  'package-lock.json',
  'esbuild.mjs',
  '.vscodeignore',
  'README.md',
  'LICENSE',
  'CHANGELOG.md',
];
/** Everything the VSIX is made from: a newer file here makes --if-stale rebuild. */
const INPUTS = ['src', 'webview', 'media', 'models', 'tokenizers', ...STAGED_FILES, 'scripts/package.mjs'];

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { target: undefined, out: undefined, ifStale: false, verbose: false };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index];
    if (arg === '--if-stale') options.ifStale = true;
    else if (arg === '--verbose') options.verbose = true;
    else if (arg === '--target' || arg === '--out') {
      const value = argv[++index];
      if (!value) fail(`${arg} needs a value`);
      options[arg.slice(2)] = value;
    } else if (arg.startsWith('--target=')) options.target = arg.slice('--target='.length);
    else if (arg.startsWith('--out=')) options.out = arg.slice('--out='.length);
    else fail(`unknown argument ${arg} (use --target <platform>, --out <file.vsix>, --if-stale, --verbose)`);
  }
  return options;
}

function hostTarget() {
  return `${process.platform}-${process.arch}`;
}

/** onnxruntime-node's binary folder for a VS Code target platform such as win32-x64. */
function onnxBinaryDir(target) {
  const match = /^(win32|linux|darwin)-(x64|arm64)$/.exec(target);
  const dir = match && path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6', match[1], match[2]);
  if (!dir || !fs.existsSync(dir)) {
    const available = ['win32', 'linux', 'darwin']
      .flatMap((os) => ['x64', 'arm64'].map((arch) => `${os}-${arch}`))
      .filter((name) =>
        fs.existsSync(path.join(root, 'node_modules/onnxruntime-node/bin/napi-v6', ...name.split('-'))),
      );
    fail(`onnxruntime-node has no binaries for target "${target}"; available: ${available.join(', ')}`);
  }
  return dir;
}

function newestMtime(entry) {
  const full = path.join(root, entry);
  if (!fs.existsSync(full)) return 0;
  const stat = fs.statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of fs.readdirSync(full)) {
    if (child === 'recipe' || child.startsWith('.')) continue;
    newest = Math.max(newest, newestMtime(path.join(entry, child)));
  }
  return newest;
}

/** Runs a step quietly; its output is shown when it fails (or always with --verbose). */
function run(command, args, cwd, verbose) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' } });
  if (verbose || result.status !== 0) process.stdout.write(`${result.stdout ?? ''}${result.stderr ?? ''}`);
  if (result.status !== 0)
    fail(
      `${path.basename(args[0] ?? command)} ${args.slice(1).join(' ')} failed with exit code ${result.status ?? result.signal}`,
    );
}

function listFiles(dir) {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** [absolute source, path inside the VSIX] for the runtime node_modules of one target. */
function runtimeModuleFiles(target) {
  const files = [];
  const add = (source) => files.push([source, `extension/${path.relative(root, source).split(path.sep).join('/')}`]);
  const ortNode = path.join(root, 'node_modules/onnxruntime-node');
  add(path.join(ortNode, 'package.json'));
  for (const file of listFiles(path.join(ortNode, 'dist'))) if (file.endsWith('.js')) add(file);
  // CUDA/TensorRT provider libraries (present only when installed on purpose) are gigabytes: not shipped.
  for (const file of listFiles(onnxBinaryDir(target))) if (!/providers_(cuda|tensorrt)/.test(file)) add(file);
  const ortCommon = path.join(root, 'node_modules/onnxruntime-common');
  add(path.join(ortCommon, 'package.json'));
  for (const file of listFiles(path.join(ortCommon, 'dist')))
    if (/\.(c?js|json)$/.test(file) && /dist[\\/](cjs|esm)[\\/]/.test(file)) add(file);
  for (const name of RUNTIME_MODULES) {
    if (!files.some(([, inVsix]) => inVsix.startsWith(`extension/node_modules/${name}/`)))
      fail(`runtime module ${name} is not installed; run npm ci`);
  }
  return files;
}

/**
 * The packaged README's local images become data: URLs. VS Code's Extensions view renders an installed
 * extension's README in a webview with no base URL for it and a policy of `img-src https: data:`, so a relative
 * `media/x.png` resolves to the workbench's own folder and a file URL is blocked; only https (the marketplace
 * rewrites to the repository, a placeholder here) or data: load. The repository's README keeps its relative links.
 */
function inlineReadmeImages(readmePath) {
  const types = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif' };
  const text = fs.readFileSync(readmePath, 'utf8');
  const inlined = text.replace(
    /(!\[[^\]]*\]\()((?:\.\/)?media\/[^)\s]+)((?:\s+"[^"]*")?\))/g,
    (whole, open, src, close) => {
      const file = path.join(root, src);
      const type = types[path.extname(file).toLowerCase()];
      if (!type || !fs.existsSync(file)) fail(`the README shows ${src}, which is not an image in media/`);
      return `${open}data:${type};base64,${fs.readFileSync(file).toString('base64')}${close}`;
    },
  );
  fs.writeFileSync(readmePath, inlined);
}

/** Stage the sources the production build and vsce need, without the repository's bulk (.git, .e2e, out). */
function stage(stageDir) {
  fs.rmSync(stageDir, { recursive: true, force: true });
  fs.mkdirSync(stageDir, { recursive: true });
  for (const link of ['src', 'webview', 'node_modules', 'tsconfig.json']) {
    fs.symlinkSync(path.join(root, link), path.join(stageDir, link));
  }
  for (const file of STAGED_FILES) {
    if (fs.existsSync(path.join(root, file))) fs.copyFileSync(path.join(root, file), path.join(stageDir, file));
  }
  fs.cpSync(path.join(root, 'media'), path.join(stageDir, 'media'), { recursive: true });
  inlineReadmeImages(path.join(stageDir, 'README.md'));
  // Tokenizer files of the cost targets (read at run time from <extension>/tokenizers).
  if (fs.existsSync(path.join(root, 'tokenizers')))
    fs.cpSync(path.join(root, 'tokenizers'), path.join(stageDir, 'tokenizers'), { recursive: true });
  fs.mkdirSync(path.join(stageDir, 'models'));
  for (const model of fs.readdirSync(path.join(root, 'models'))) {
    if (model === 'recipe' || !fs.statSync(path.join(root, 'models', model)).isDirectory()) continue;
    fs.cpSync(path.join(root, 'models', model), path.join(stageDir, 'models', model), { recursive: true });
  }
}

function readZip(file) {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false }, (error, zip) => (error ? reject(error) : resolve(zip)));
  });
}

function readEntry(zip, entry) {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) return reject(error);
      const chunks = [];
      stream.on('data', (chunk) => chunks.push(chunk));
      stream.on('end', () => resolve(Buffer.concat(chunks)));
      stream.on('error', reject);
    });
  });
}

const CONTENT_TYPES = {
  '.js': 'application/javascript',
  '.json': 'application/json',
  '.node': 'application/octet-stream',
};

/** Copies vsce's VSIX and adds the runtime modules, declaring their file extensions in [Content_Types].xml. */
async function addRuntimeModules(vsceOutput, finalPath, files) {
  const zip = await readZip(vsceOutput);
  const entries = [];
  await new Promise((resolve, reject) => {
    zip.on('entry', (entry) => {
      readEntry(zip, entry).then((data) => {
        entries.push({ name: entry.fileName, data, mtime: entry.getLastModDate() });
        zip.readEntry();
      }, reject);
    });
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.readEntry();
  });
  zip.close();
  const contentTypesEntry = entries.find((entry) => entry.name === '[Content_Types].xml');
  if (!contentTypesEntry) fail('vsce wrote no [Content_Types].xml');
  for (const [, inVsix] of files) {
    if (entries.some((entry) => entry.name === inVsix))
      fail(`${inVsix} is already in the VSIX; .vscodeignore must not let node_modules through`);
  }
  const contentTypes = contentTypesEntry.data.toString('utf8');
  const declared = new Set([...contentTypes.matchAll(/Extension="([^"]*)"/g)].map((match) => match[1].toLowerCase()));
  const extra = [...new Set(files.map(([, inVsix]) => path.extname(inVsix).toLowerCase()))]
    .filter((extension) => extension && !declared.has(extension))
    .map(
      (extension) =>
        `<Default Extension="${extension}" ContentType="${CONTENT_TYPES[extension] ?? 'application/octet-stream'}"/>`,
    );
  contentTypesEntry.data = Buffer.from(contentTypes.replace('</Types>', `${extra.join('')}</Types>`), 'utf8');

  const output = new yazl.ZipFile();
  const written = new Promise((resolve, reject) => {
    output.outputStream.pipe(fs.createWriteStream(finalPath)).on('close', resolve).on('error', reject);
  });
  // [Content_Types].xml first, as vsce writes it.
  for (const entry of [contentTypesEntry, ...entries.filter((other) => other !== contentTypesEntry)]) {
    output.addBuffer(entry.data, entry.name, { mtime: entry.mtime });
  }
  for (const [source, inVsix] of files) output.addFile(source, inVsix, { mode: fs.statSync(source).mode });
  output.end();
  await written;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const target = options.target ?? hostTarget();
  const defaultName = options.target
    ? `${manifest.name}-${target}-${manifest.version}.vsix`
    : `${manifest.name}-${manifest.version}.vsix`;
  const outPath = path.resolve(root, options.out ?? defaultName);
  if (options.ifStale && fs.existsSync(outPath)) {
    const builtAt = fs.statSync(outPath).mtimeMs;
    if (INPUTS.every((input) => newestMtime(input) < builtAt)) {
      console.log(`package: ${path.relative(root, outPath)} is up to date`);
      return;
    }
  }
  const runtimeFiles = runtimeModuleFiles(target);
  const modelDir = path.join(root, 'models/pa-mini-llama');
  for (const required of ['config.json', 'tokenizer.json', 'onnx/model.onnx']) {
    if (!fs.existsSync(path.join(modelDir, required)))
      fail(`the embedded model is incomplete: models/pa-mini-llama/${required} is missing`);
  }

  // A private staging folder per run, so two runs (or a test run beside a developer's) never collide.
  const stageDir = path.join(root, 'out', `vsix-stage-${process.pid}`);
  const vsceOutput = path.join(stageDir, 'vsce.vsix');
  const partial = `${outPath}.${process.pid}.partial`;
  try {
    stage(stageDir);
    run(process.execPath, [path.join(stageDir, 'esbuild.mjs'), '--production'], stageDir, options.verbose);
    const vsce = path.join(root, 'node_modules/@vscode/vsce/vsce');
    // Links are not rewritten to the manifest's repository (a placeholder URL): the README's images are inlined
    // (inlineReadmeImages) and its other relative links stay as they are.
    const vsceArgs = [
      vsce,
      'package',
      '--no-dependencies',
      '--no-rewrite-relative-links',
      '--target',
      target,
      '--out',
      vsceOutput,
    ];
    if (!fs.existsSync(path.join(root, 'LICENSE'))) vsceArgs.push('--skip-license');
    run(process.execPath, vsceArgs, stageDir, options.verbose);
    fs.mkdirSync(path.dirname(outPath), { recursive: true });
    await addRuntimeModules(vsceOutput, partial, runtimeFiles);
    fs.renameSync(partial, outPath);
  } finally {
    fs.rmSync(stageDir, { recursive: true, force: true });
    fs.rmSync(partial, { force: true });
  }
  const megabytes = (fs.statSync(outPath).size / 1024 / 1024).toFixed(1);
  console.log(`package: wrote ${path.relative(root, outPath)} (${target}, ${megabytes} MB)`);
}

main().catch((error) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error)));
