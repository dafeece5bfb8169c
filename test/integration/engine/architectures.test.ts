import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { runInspection } from '../../../src/engine/inspection';
import { LoadedModel } from '../../../src/engine/runtime/loadedModel';
import type { InspectionSummary, LayerAttention } from '../../../src/shared/protocol';
import { makeTempDir, removeTempDir, writeTinyGpt2Model } from '../../helpers/tinyModel';

let dir = '';

before(async () => {
  dir = await makeTempDir();
});

after(() => removeTempDir(dir));

async function inspect(
  model: LoadedModel,
  text: string,
): Promise<{ layers: LayerAttention[]; summary: InspectionSummary | null }> {
  const layers: LayerAttention[] = [];
  let summary: InspectionSummary | null = null;
  await runInspection(
    model,
    { requestId: 1, text, model: '', provider: 'cpu', maxCharacters: 100_000, maxTokens: 0, window: 'start' },
    {
      emit: (e) => {
        if (e.kind === 'layer') layers.push(e.layer);
        else if (e.kind === 'summary') summary = e.summary;
      },
    },
    () => false,
  );
  return { layers, summary };
}

for (const outputAttentions of [false, true]) {
  test(`a GPT-2-style folder (n_layer/n_head config, no position_ids${outputAttentions ? ', attentions already output' : ''}) inspects end to end`, async () => {
    const tiny = await writeTinyGpt2Model(path.join(dir, `gpt2-${outputAttentions}`), {
      layers: 3,
      heads: 2,
      outputAttentions,
    });
    const model = await LoadedModel.load(tiny.folder, {
      id: 'gpt2-tiny',
      cacheDir: path.join(dir, 'cache'),
      provider: 'cpu',
    });
    try {
      assert.deepEqual(
        [model.config.layers, model.config.heads, model.config.kvHeads, model.config.maxPositions],
        [3, 2, 2, 256],
      );
      const { layers, summary } = await inspect(model, 'GPT-2 style: fused QKV, split, and a learned position table.');
      assert.equal(layers.length, 3);
      assert.equal(summary?.heads.length, 6);
      for (const layer of layers) {
        assert.equal(layer.heads.encoding, 'dense-u8');
        let total = 0;
        for (const r of layer.received) total += r;
        assert.ok(Math.abs(total - 1) < 1e-4);
      }
    } finally {
      await model.dispose();
    }
  });
}
