// A GGUF model at long context (issue 27 on the GGUF path): a tiny-shape fixture whose context is 16k inspects
// 8,192 tokens uncut, with the statistics in row blocks, the model's own attention fused, and Q and K kept
// for rows on demand. The memory estimate that sets the token limit sees the GGUF model as such (blocked,
// rows kept). (Rows on demand against the float64 pass: ggufSites.test.ts, at a length it can afford.)
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { memoryTokenLimit, runInspection } from '../../../src/engine/inspection';
import { LoadedModel } from '../../../src/engine/runtime/loadedModel';
import type { InspectionEvent } from '../../../src/shared/protocol';
import { buildGgufFixture, TINY_SHAPE } from '../../helpers/ggufFixtures';
import { request } from '../../faults/faultKit';

const TOKENS = 8192;
let dir = '';
before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'gguf-long-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('a GGUF model inspects 8,192 tokens uncut, blocked, with exact rows on demand', async () => {
  const fixture = buildGgufFixture({ arch: 'qwen2', type: 'Q8_0', shape: { ...TINY_SHAPE, context: 16384 } });
  const file = path.join(dir, 'long.gguf');
  await fs.writeFile(file, fixture.bytes);
  const model = await LoadedModel.loadGguf(file, { id: 'long', cacheDir: path.join(dir, 'cache'), provider: 'cpu' });
  try {
    assert.ok(model.recomputesStatistics && model.hasExactRows);
    // The estimate counts the blocked statistics and the kept Q/K: 8,192 tokens fit in a few GiB.
    assert.ok(memoryTokenLimit(model, 4 * 2 ** 30, 0) >= TOKENS);
    let text = '';
    for (let i = 0; text.length < TOKENS * 6; i++) text += `line ${i % 97} of the long prompt, item ${i}.\n`;
    assert.ok(model.tokenizer.tokenize(text).ids.length > TOKENS, 'the text is longer than asked');
    const events: InspectionEvent[] = [];
    await runInspection(
      model,
      request(file, text, { maxTokens: TOKENS, rowsOnDemand: true, maxCharacters: 1e7 }),
      { emit: (e) => events.push(e) },
      () => false,
    );
    const error = events.find((e) => e.kind === 'error');
    assert.equal(error, undefined, JSON.stringify(error));
    const header = events.find((e) => e.kind === 'header');
    if (header?.kind !== 'header') throw new Error('no header');
    assert.equal(header.header.tokens.length, TOKENS, 'inspected uncut');
    assert.ok(
      events.some((e) => e.kind === 'summary'),
      'the inspection finished',
    );
  } finally {
    await model.dispose();
  }
});
