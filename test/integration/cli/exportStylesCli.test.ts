// `prompt-attention inspect prompt.md --model <folder> --format json --dense` on folders laid out as people
// download them: the attention printed is the model's own (a float64 forward pass from the same weights).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ModelTokenizer } from '../../../src/engine/runtime/modelTokenizer';
import { buildBundle } from '../../helpers/buildBundle';
import { runCli, type CliRun } from '../../helpers/runCli';
import type { FolderStyle } from '../../helpers/exportStyleFolder';
import { writeExportFolder } from '../../helpers/exportStyleFolder';
import { maxAbsDiff, referenceForward } from '../../helpers/referenceDecoder';
import { makeTempDir, removeTempDir } from '../../helpers/tinyModel';

let cli = '';
let dir = '';
const PROMPT = 'You are a helpful assistant. Answer briefly: café, 中文, 🙂.\nThe fox attends to the dog.';

function run(args: string[]): Promise<CliRun> {
  return runCli(cli, args, { cwd: dir, env: { ...process.env, XDG_CACHE_HOME: path.join(dir, 'xdg') } });
}

before(async () => {
  cli = await buildBundle('src/cli/cli.ts', 'cli-export-styles');
  dir = await makeTempDir();
  await fs.writeFile(path.join(dir, 'prompt.md'), PROMPT);
});

after(() => removeTempDir(dir));

interface Json {
  readonly model: {
    readonly id: string;
    readonly layers: number;
    readonly heads: number;
    readonly file?: string;
    readonly dtype?: string;
    readonly provider: string;
  };
  readonly tokens: readonly unknown[];
  readonly attention: number[][][][];
}

const CASES: { style: FolderStyle; label: string; args: string[]; file: string; dtype: string; tolerance?: number }[] =
  [
    {
      style: 'genai',
      label: 'a builder-style GroupQueryAttention folder (genai_config.json, model.onnx.data, no config.json)',
      args: [],
      file: 'model.onnx',
      dtype: 'fp32',
    },
    {
      style: 'merged',
      label: 'a legacy merged-decoder folder (only onnx/decoder_model_merged.onnx + _data)',
      args: [],
      file: 'onnx/decoder_model_merged.onnx',
      dtype: 'fp32',
    },
    {
      style: 'q4-only',
      label: 'a folder with only onnx/model_q4.onnx, with --dtype q4',
      args: ['--dtype', 'q4'],
      file: 'onnx/model_q4.onnx',
      dtype: 'q4',
    },
    {
      style: 'q4-only',
      label: 'the same folder with no --dtype (auto takes the only file)',
      args: [],
      file: 'onnx/model_q4.onnx',
      dtype: 'q4',
    },
    {
      style: 'fp16-only',
      label: 'a folder with only onnx/model_fp16.onnx (fp16 cache, logits and probabilities)',
      args: ['--dtype', 'fp16'],
      file: 'onnx/model_fp16.onnx',
      dtype: 'fp16',
      // The probabilities are recomputed in float32 from the model's half-precision Q and K (siteStatsGraph.ts),
      // whose rounding alone moves a weight by up to ~5e-3 from the float64 pass on the float32 weights.
      tolerance: 6e-3,
    },
  ];

for (const c of CASES) {
  test(`inspect --model <folder> --format json --dense: ${c.label} gives the model's real attention`, async () => {
    const fixture = await writeExportFolder(path.join(dir, `${c.style}-${CASES.indexOf(c)}`), c.style);
    const result = await run([
      'inspect',
      'prompt.md',
      '--model',
      fixture.folder,
      ...c.args,
      '--format',
      'json',
      '--dense',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout) as Json;
    assert.deepEqual([json.model.file, json.model.dtype, json.model.provider], [c.file, c.dtype, 'cpu']);
    const ids = (await ModelTokenizer.load(fixture.folder)).tokenize(PROMPT).ids;
    assert.equal(json.tokens.length, ids.length);
    const reference = referenceForward(fixture.weights, ids);
    const n = ids.length;
    assert.equal(json.attention.length, 2);
    json.attention.forEach((layer, l) => {
      assert.equal(layer.length, 4);
      const flat = layer.flat(2);
      assert.equal(flat.length, 4 * n * n);
      const diff = maxAbsDiff(flat, reference.probs[l]);
      assert.ok(diff < (c.tolerance ?? 1e-4), `layer ${l}: max |Δp| ${diff}`);
    });
  });
}

test('a dtype the folder lacks, and a dtype that does not exist: one line each', async () => {
  const fixture = await writeExportFolder(path.join(dir, 'q4-errors'), 'q4-only');
  const missing = await run(['inspect', 'prompt.md', '--model', fixture.folder, '--dtype', 'fp16', '--format', 'json']);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr.trim(),
    /^prompt-attention: No fp16 model file in .*: looked for onnx\/model_fp16\.onnx and onnx\/decoder_model_merged_fp16\.onnx \(found onnx\/model_q4\.onnx\)\.$/,
  );
  const unknown = await run(['inspect', 'prompt.md', '--model', fixture.folder, '--dtype', 'q3']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--dtype must be one of auto, fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4\./);
});
