// The inspection's `next` field (the 10 most likely next tokens at the last position) and the model's
// format/quant fields, on both kinds of model: a GGUF fixture, checked against the float64 pass on its
// weights (within 2e-3), and the embedded ONNX model, checked against a plain onnxruntime session of the
// source graph (its logits at the last position).
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { runInspection } from '../../../src/engine/inspection';
import { ModelCache } from '../../../src/engine/runtime/modelCache';
import type { InspectionEvent, InspectionSummary, ModelSummary } from '../../../src/shared/protocol';
import { buildGgufFixture } from '../../helpers/ggufFixtures';
import { ggufReferenceForward, softmaxRow } from '../../helpers/ggufReference';
import { request } from '../../faults/faultKit';

let dir = '';
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'next-tokens-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function inspectWith(
  setting: string,
  text: string,
): Promise<{ summary: InspectionSummary; model: ModelSummary; ids: number[] }> {
  const cache = new ModelCache({ modelsDir: path.resolve('models'), cacheDir: path.join(dir, 'cache') });
  try {
    const model = await cache.get(setting, 'cpu', () => undefined);
    const events: InspectionEvent[] = [];
    await runInspection(model, request(setting, text), { emit: (e) => events.push(e) }, () => false);
    const error = events.find((e) => e.kind === 'error');
    assert.equal(error, undefined, JSON.stringify(error));
    const header = events.find((e) => e.kind === 'header');
    const summary = events.find((e) => e.kind === 'summary');
    if (header?.kind !== 'header' || summary?.kind !== 'summary') throw new Error('no header or summary');
    return { summary: summary.summary, model: header.header.model, ids: header.header.tokens.map((t) => t.id) };
  } finally {
    await cache.release();
  }
}

function assertSortedTop(next: InspectionSummary['next']): void {
  assert.equal(next?.length, 10);
  for (let i = 1; i < 10; i++) assert.ok((next?.[i - 1].p ?? 0) >= (next?.[i].p ?? 0), 'most likely first');
}

test('GGUF: next holds the 10 most likely tokens, within 2e-3 of the float64 pass; model says gguf and Q5_K', async () => {
  const fixture = buildGgufFixture({ arch: 'qwen2', type: 'Q5_K', addBos: false });
  const file = path.join(dir, 'tiny.gguf');
  await fs.writeFile(file, fixture.bytes);
  const { summary, model, ids } = await inspectWith(file, 'the cat sat on the mat');
  assert.equal(model.format, 'gguf');
  assert.equal(model.quant, 'Q5_K');
  assert.equal(model.architecture, 'qwen2');
  assertSortedTop(summary.next);
  const exact = softmaxRow(ggufReferenceForward(fixture, ids).logits, ids.length - 1, fixture.shape.vocab);
  const order = [...exact.keys()].sort((a, b) => exact[b] - exact[a]);
  for (const [i, t] of (summary.next ?? []).entries()) {
    assert.ok(Math.abs(t.p - exact[t.id]) <= 2e-3, `token ${t.id}: ${t.p} vs ${exact[t.id]}`);
    if (exact[order[i]] - (exact[order[i + 1]] ?? 0) > 1e-3) assert.equal(t.id, order[i]);
  }
});

test('ONNX: next equals the source graph run plainly, softmax at the last position', async () => {
  const folder = path.resolve('models', 'pa-mini-llama');
  const { summary, model, ids } = await inspectWith(folder, 'Answer briefly and cite the document.');
  assert.equal(model.format, 'onnx');
  assertSortedTop(summary.next);
  const session = await ort.InferenceSession.create(path.join(folder, 'onnx', 'model.onnx'));
  try {
    const n = ids.length;
    const int64 = (values: number[]): ort.Tensor =>
      new ort.Tensor(
        'int64',
        BigInt64Array.from(values, (v) => BigInt(v)),
        [1, n],
      );
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of session.inputNames) {
      if (name === 'input_ids') feeds[name] = int64(ids);
      else if (name === 'attention_mask') feeds[name] = int64(ids.map(() => 1));
      else if (name === 'position_ids') feeds[name] = int64(ids.map((_, i) => i));
      else throw new Error(`unexpected input ${name}`);
    }
    const logits = (await session.run(feeds)).logits;
    const vocab = logits.dims[2];
    const exact = softmaxRow(logits.data as Float32Array, n - 1, vocab);
    for (const t of summary.next ?? []) assert.ok(Math.abs(t.p - exact[t.id]) <= 1e-5, `token ${t.id}`);
    assert.equal(summary.next?.[0].id, exact.indexOf(Math.max(...exact)));
  } finally {
    await session.release();
  }
});
