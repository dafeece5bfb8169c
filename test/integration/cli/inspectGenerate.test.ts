// `inspect --generate N` through the real CLI bundle on a torch-style export with a KV cache (reference
// decoder weights, tiny tokenizer): the answer object (text, tokens with offsets into it), greedy runs that
// agree, and with --dense the answer tokens' rows after the prompt's, over prompt and answer keys, equal to
// the float64 reference decoder run on the prompt and the answer; --weighting value-norm rows sum to 1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ModelTokenizer } from '../../../src/engine/runtime/modelTokenizer';
import { buildBundle } from '../../helpers/buildBundle';
import { writeKvExportFolder } from '../../helpers/kvExportFolder';
import { randomDecoder, referenceForward, smallGqaShape } from '../../helpers/referenceDecoder';
import { runCli } from '../../helpers/runCli';
import { buildTinyTokenizer } from '../../helpers/tinyTokenizer';
import { makeTempDir, removeTempDir } from '../../helpers/tinyModel';

let cli = '';
let dir = '';
let model = '';
const tokenizer = buildTinyTokenizer();
const SHAPE = smallGqaShape(tokenizer.vocabSize, 256);
const weights = randomDecoder(SHAPE, 13);
const PROMPT = 'The cat sat on the mat and the dog';

interface Doc {
  tokens: { text: string }[];
  answer: { text: string; tokens: { id: number; text: string; start: number; end: number }[] };
  attention?: number[][][][];
}

before(async () => {
  cli = await buildBundle('src/cli/cli.ts', 'cli-generate');
  dir = await makeTempDir();
  model = await writeKvExportFolder(path.join(dir, 'model'), weights, tokenizer);
  await fs.writeFile(path.join(dir, 'prompt.txt'), PROMPT);
});
after(() => removeTempDir(dir));

async function inspect(extra: string[]): Promise<Doc> {
  const run = await runCli(
    cli,
    [
      'inspect',
      'prompt.txt',
      '--model',
      model,
      '--provider',
      'cpu',
      '--cache-dir',
      path.join(dir, 'cache'),
      '--format',
      'json',
      ...extra,
    ],
    { cwd: dir },
  );
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as Doc;
}

test('--generate N: an answer whose tokens tile its text; greedy runs agree', async () => {
  const a = await inspect(['--generate', '6']);
  const b = await inspect(['--generate', '6']);
  assert.deepEqual(a.answer, b.answer);
  assert.ok(a.answer.tokens.length >= 1 && a.answer.tokens.length <= 6);
  assert.deepEqual(Object.keys(a.answer.tokens[0]), ['id', 'text', 'start', 'end']);
  let at = 0;
  for (const t of a.answer.tokens) {
    assert.equal(t.start, at);
    assert.equal(a.answer.text.slice(t.start, t.end), t.text);
    at = t.end;
  }
  assert.equal(at, a.answer.text.length);
  const sampled = await inspect(['--generate', '6', '--temperature', '1.2', '--seed', '3']);
  assert.deepEqual(sampled.answer, (await inspect(['--generate', '6', '--temperature', '1.2', '--seed', '3'])).answer);
});

test('--dense with --generate: the answer rows follow the prompt rows and equal the float64 reference', async () => {
  const doc = await inspect(['--generate', '5', '--dense']);
  assert.ok(doc.attention);
  const P = doc.tokens.length;
  const N = doc.answer.tokens.length;
  // The tokenizer is not what is checked here: the prompt's ids come from it directly.
  const promptIds = (await ModelTokenizer.load(model)).tokenize(PROMPT).ids;
  assert.equal(promptIds.length, P);
  const ids = [...promptIds, ...doc.answer.tokens.map((t) => t.id)];
  const reference = referenceForward(weights, ids);
  const n = P + N;
  let worst = 0;
  for (let l = 0; l < SHAPE.layers; l++) {
    assert.equal(doc.attention[l][0].length, n);
    for (let h = 0; h < SHAPE.heads; h++)
      for (let q = 0; q < n; q++) {
        assert.equal(doc.attention[l][h][q].length, n);
        for (let k = 0; k < n; k++)
          worst = Math.max(worst, Math.abs(doc.attention[l][h][q][k] - reference.probs[l][h * n * n + q * n + k]));
      }
  }
  assert.ok(worst < 1e-4, `largest difference ${worst}`);
});

test('--weighting value-norm: attention holds rows that sum to 1 and differ from plain attention', async () => {
  const weighted = (await inspect(['--weighting', 'value-norm'])) as Doc & { weighting?: string };
  const plain = await inspect(['--dense']);
  assert.equal(weighted.weighting, 'value-norm');
  assert.ok(weighted.attention && plain.attention);
  let differs = 0;
  weighted.attention.forEach((layer, l) =>
    layer.forEach((head, h) =>
      head.forEach((row, q) => {
        assert.ok(Math.abs(row.reduce((s, x) => s + x, 0) - 1) < 1e-4, `layer ${l} head ${h} row ${q}`);
        row.forEach((x, k) => (differs = Math.max(differs, Math.abs(x - (plain.attention?.[l][h][q][k] ?? 0)))));
      }),
    ),
  );
  assert.ok(differs > 1e-3);
});

test('--answer <file>: the file read as the answer; with --dense its rows follow the prompt’s, as the reference', async () => {
  await fs.writeFile(path.join(dir, 'answer.txt'), 'sat on the cat\n');
  const doc = await inspect(['--answer', 'answer.txt', '--dense']);
  assert.equal(doc.answer.text.trim(), 'sat on the cat');
  assert.equal(doc.answer.tokens.map((t) => t.text).join(''), doc.answer.text);
  assert.ok(doc.attention);
  const P = doc.tokens.length;
  const promptIds = (await ModelTokenizer.load(model)).tokenize(PROMPT).ids;
  assert.equal(promptIds.length, P);
  const ids = [...promptIds, ...doc.answer.tokens.map((t) => t.id)];
  const reference = referenceForward(weights, ids);
  const n = ids.length;
  let worst = 0;
  for (let l = 0; l < SHAPE.layers; l++)
    for (let h = 0; h < SHAPE.heads; h++)
      for (let q = P; q < n; q++)
        for (let k = 0; k < n; k++)
          worst = Math.max(worst, Math.abs(doc.attention[l][h][q][k] - reference.probs[l][h * n * n + q * n + k]));
  assert.ok(worst < 1e-4, `largest difference ${worst}`);
  const both = await runCli(cli, ['inspect', 'prompt.txt', '--answer', 'answer.txt', '--generate', '2'], { cwd: dir });
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--answer reads an answer; leave out --generate/);
  const missing = await runCli(
    cli,
    ['inspect', 'prompt.txt', '--model', model, '--provider', 'cpu', '--cache-dir', path.join(dir, 'cache')].concat([
      '--format',
      'json',
      '--answer',
      'nothing.txt',
    ]),
    { cwd: dir },
  );
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /: Cannot read the answer file nothing\.txt: /);
});
