// The extension host's thread stays responsive while a tokenizer loads: the Llama 3 merge table (over a second
// to build) is built in the tokenizer worker. An event-loop lag probe compares the worst stall during a load
// in the worker with the stall of the same load on this thread: relative behaviour, not a time budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildBundle } from '../../helpers/buildBundle';
import { IncrementalCounter } from '../../../src/cost/incrementalCounter';
import { BUILT_IN_PRESETS } from '../../../src/cost/presets';
import { DEFAULT_COST_OPTIONS } from '../../../src/cost/costSettings';
import { loadTokenCounter } from '../../../src/cost/tokenCounters';
import { TokenizerWorkerClient } from '../../../src/cost/tokenizerWorkerClient';

const assetsDir = join(__dirname, '../../../tokenizers');

/** The longest gap between ticks of a 5 ms interval while `work` runs: how long the thread was blocked. */
async function worstStallMs(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let worst = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 5);
  try {
    await work();
    // One more tick, so a stall at the very end is seen.
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    clearInterval(probe);
  }
  return worst;
}

test('loading a tokenizer in the worker does not stall this thread the way loading it here does', async () => {
  const script = await buildBundle('src/cost/tokenizerWorker.ts', 'tokenizer-worker-lag');
  const client = new TokenizerWorkerClient(script, { assetsDir });
  try {
    const preset = BUILT_IN_PRESETS.find((p) => p.id === 'llama-3.1-8b');
    assert.ok(preset);
    const text = 'Hello there.\nThe cache restore failed twice.\n';
    assert.equal(client.isReady('llama3'), false);
    let counted = 0;
    const inWorker = await worstStallMs(async () => {
      counted = (await client.count('doc', text, preset, DEFAULT_COST_OPTIONS)).snapshot.total;
    });
    assert.equal(client.isReady('llama3'), true);
    const onThread = await worstStallMs(async () => {
      const counter = await loadTokenCounter('llama3', { assetsDir });
      assert.equal(
        new IncrementalCounter(counter).update(text).total,
        counted,
        'the worker counts as this thread does',
      );
    });
    assert.ok(
      inWorker * 4 < onThread,
      `worst stall ${inWorker.toFixed(0)} ms with the worker vs ${onThread.toFixed(0)} ms on the thread`,
    );
  } finally {
    client.dispose();
  }
});

test('the worker reports a missing tokenizer folder as a one-line failure and keeps serving', async () => {
  const script = await buildBundle('src/cost/tokenizerWorker.ts', 'tokenizer-worker-lag');
  const client = new TokenizerWorkerClient(script, { assetsDir: '/nonexistent' });
  try {
    const llama = BUILT_IN_PRESETS.find((p) => p.id === 'llama-3.1-8b');
    const gpt = BUILT_IN_PRESETS.find((p) => p.id === 'gpt-5');
    assert.ok(llama && gpt);
    await assert.rejects(client.count('doc', 'x', llama, DEFAULT_COST_OPTIONS), /no such file|ENOENT/);
    const gptCount = await client.count('doc', 'Hello world!', gpt, DEFAULT_COST_OPTIONS);
    assert.equal(gptCount.snapshot.total, 3);
    assert.equal(gptCount.chatOverhead, 7);
  } finally {
    client.dispose();
  }
});
