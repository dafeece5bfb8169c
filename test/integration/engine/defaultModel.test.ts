// The shipped model (models/pa-mini-llama) through the engine: it loads, its attention is a proper causal
// distribution, and it has the heads the panel promises (previous-token, induction).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { headScores, inductionScores, scoreInputsFromFull } from '../../../src/engine/analysis/headRoles';
import { runInspection } from '../../../src/engine/inspection';
import type { InspectionSummary, LayerAttention } from '../../../src/shared/protocol';
import { LoadedModel } from '../../../src/engine/runtime/loadedModel';
import { seededRandom } from '../../helpers/onnxBuilder';
import { makeTempDir, removeTempDir } from '../../helpers/tinyModel';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const MODEL = path.join(ROOT, 'models', 'pa-mini-llama');

let dir = '';
let model: LoadedModel;
let prose = '';

before(async () => {
  dir = await makeTempDir();
  prose = await fs.readFile(path.join(ROOT, 'test', 'fixtures', 'heldout-prose.txt'), 'utf8');
  model = await LoadedModel.load(MODEL, { id: 'pa-mini-llama', cacheDir: dir, provider: 'cpu' });
});

after(async () => {
  await model?.dispose();
  await removeTempDir(dir);
});

test('the default model loads through the engine with the documented shape', () => {
  assert.equal(model.config.layers, 4);
  assert.equal(model.config.heads, 8);
  assert.equal(model.config.kvHeads, 2);
  assert.equal(model.config.maxPositions, 2048);
  assert.equal(model.provider, 'cpu');
  assert.ok(model.card?.proxyNote, 'card.json gives the proxy note');
});

test('on held-out prose: rows sum to 1, attention is causal, and a previous-token head scores ≥ 0.5', async () => {
  const { ids } = model.tokenizer.tokenize(prose);
  const layers = await model.runAttention(ids);
  const n = ids.length;
  let best = 0;
  for (const layer of layers) {
    const data = layer.data;
    assert.ok(data);
    const inputs = scoreInputsFromFull(data, layer.heads, n);
    for (let h = 0; h < layer.heads; h++) {
      for (let q = 0; q < n; q++) {
        const row = data.subarray(h * n * n + q * n, h * n * n + (q + 1) * n);
        let sum = 0;
        for (let k = 0; k < n; k++) sum += row[k];
        assert.ok(Math.abs(sum - 1) < 1e-4, `layer ${layer.n} head ${h} row ${q} sums to ${sum}`);
        for (let k = q + 1; k < n; k++) assert.equal(row[k], 0);
      }
      best = Math.max(best, headScores(inputs, h, 0).previousToken);
    }
  }
  assert.ok(best >= 0.5, `best previous-token score ${best.toFixed(3)}`);
});

test('on a random word sequence repeated twice, an induction head scores ≥ 0.3', async () => {
  const words = [...new Set(prose.toLowerCase().match(/[a-z]{3,}/g) ?? [])];
  const random = seededRandom(2024);
  const sequence = Array.from({ length: 60 }, () => ` ${words[Math.floor(random() * words.length)]}`).join('');
  const tokenized = model.tokenizer.tokenize(sequence);
  const bos = tokenized.ids[0];
  const repeated = tokenized.ids.slice(1);
  const ids = [bos, ...repeated, ...repeated];
  const layers = await model.runAttention(ids);
  let best = 0;
  for (const layer of layers) {
    assert.ok(layer.data);
    const scores = inductionScores(layer.data, layer.heads, layer.n, 1, repeated.length);
    for (const score of scores) best = Math.max(best, score);
  }
  assert.ok(best >= 0.3, `best induction score ${best.toFixed(3)}`);
});

test('a 2,048-token input runs end to end (top-k rows, window note for longer text)', async () => {
  const text = `${prose}\n\n`.repeat(12);
  const layers: LayerAttention[] = [];
  let summary: InspectionSummary | null = null;
  let tokens = 0;
  const request = {
    requestId: 1,
    text,
    model: '',
    provider: 'cpu' as const,
    maxCharacters: 1_000_000,
    maxTokens: 0,
    window: 'start' as const,
  };
  await runInspection(
    model,
    request,
    {
      emit: (e) => {
        if (e.kind === 'header') tokens = e.header.tokens.length;
        else if (e.kind === 'layer') layers.push(e.layer);
        else if (e.kind === 'summary') summary = e.summary;
      },
    },
    () => false,
  );
  assert.equal(tokens, 2048);
  assert.equal(layers.length, 4);
  assert.equal(layers[0].heads.encoding, 'topk-u8');
  assert.equal(layers[0].heads.rows, 8 * 2048);
  const done = summary as InspectionSummary | null;
  assert.match(done?.notes[0] ?? '', /^Inspected the first 2048 of \d+ tokens\.$/);
  // The roles the panel shows: the shipped model has previous-token and induction heads.
  const roles = new Set(done?.heads.map((h) => h.role));
  assert.ok(roles.has('previous-token') && roles.has('induction'), [...roles].join(', '));
});
