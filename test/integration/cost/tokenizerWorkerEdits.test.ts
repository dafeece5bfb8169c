// After a document's first count the host sends the tokenizer worker only edits; on random edits of a real
// prompt the worker's counts, chunks, diagnostics and section lenses equal a fresh count of the whole text on this
// thread, also after the worker lost the text (it asks for the whole text again) and after a tokenizer switch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBundle } from '../../helpers/buildBundle';
import { randomEdit } from '../../helpers/randomEdit';
import { DEFAULT_COST_OPTIONS, type CostOptions } from '../../../src/cost/costSettings';
import { coverSections } from '../../../src/shared/promptSections';
import { computeCostDiagnostics, computeSectionLenses } from '../../../src/cost/editorModels';
import { IncrementalCounter } from '../../../src/cost/incrementalCounter';
import { BUILT_IN_PRESETS, type TargetPreset } from '../../../src/cost/presets';
import { chatOverheadTokens, loadTokenCounter } from '../../../src/cost/tokenCounters';
import { TokenizerWorkerClient } from '../../../src/cost/tokenizerWorkerClient';
import { seededRandom } from '../../../src/shared/seededRandom';

const assetsDir = join(__dirname, '../../../tokenizers');
const examples = join(__dirname, '../../../examples');

function preset(id: string): TargetPreset {
  const found = BUILT_IN_PRESETS.find((p) => p.id === id);
  assert.ok(found, id);
  return found;
}

/** Small windows, so the diagnostics (and their token offsets) come into play on a short prompt. */
function optionsFor(target: TargetPreset): CostOptions {
  return { ...DEFAULT_COST_OPTIONS, warningShare: 100 / target.contextWindow, errorShare: 300 / target.contextWindow };
}

async function expectFresh(
  label: string,
  text: string,
  target: TargetPreset,
  got: Awaited<ReturnType<TokenizerWorkerClient['count']>>,
): Promise<void> {
  const counter = await loadTokenCounter(target.tokenizer, { assetsDir });
  const fresh = new IncrementalCounter(counter).update(text);
  assert.equal(got.snapshot.text, text, label);
  assert.equal(got.snapshot.total, fresh.total, label);
  assert.equal(
    got.snapshot.chunks.reduce((sum, chunk) => sum + chunk.tokens, 0),
    fresh.total,
    label,
  );
  const overhead = chatOverheadTokens(target, counter);
  assert.deepEqual(
    got.diagnostics,
    computeCostDiagnostics(fresh, counter, target, optionsFor(target), overhead),
    label,
  );
  assert.deepEqual(got.lenses, computeSectionLenses(fresh, coverSections(text)), label);
}

test('counts sent as edits equal a fresh count of the whole text on random edits', async () => {
  const script = await buildBundle('src/cost/tokenizerWorker.ts', 'tokenizer-worker-edits');
  const client = new TokenizerWorkerClient(script, { assetsDir });
  try {
    const random = seededRandom(5);
    const inserts = ['x', ' ', '\n', '\n\n', '# Heading\n', 'word ', '  ', '漢字', '😀'];
    let text = readFileSync(join(examples, 'system-prompt.md'), 'utf8');
    for (const id of ['llama-2-7b', 'gpt-4o']) {
      const target = preset(id);
      for (let i = 0; i < 60; i++) {
        text = randomEdit(text, random, inserts, 0.3, 30).text;
        // Some updates are skipped, as the debounce does: the edit then spans several keystrokes.
        if (random() < 0.3) continue;
        await expectFresh(
          `${id} edit ${i}`,
          text,
          target,
          await client.count('doc', text, target, optionsFor(target), true),
        );
      }
    }
    // The worker loses the text (as if it had forgotten the document): the client sends it whole again.
    (client as unknown as { forgetInWorker(document: string): void }).forgetInWorker('doc');
    text = `${text}\nafter the worker forgot\n`;
    const target = preset('gpt-4o');
    await expectFresh(
      'after a lost text',
      text,
      target,
      await client.count('doc', text, target, optionsFor(target), true),
    );
    text = `${text}one more\n`;
    await expectFresh(
      'the edit after that',
      text,
      target,
      await client.count('doc', text, target, optionsFor(target), true),
    );
  } finally {
    client.dispose();
  }
});
