import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureCostThroughput } from '../../../src/cost/costBenchmark';

test('measureCostThroughput counts the text and times each simulated keystroke (no time is asserted)', async () => {
  const text = Array.from({ length: 200 }, (_, i) => `Line ${i}: the quick brown fox jumps over the lazy dog.`).join('\n');
  const result = await measureCostThroughput(text, 'cl100k_base', 5);
  assert.equal(result.tokenizer, 'cl100k_base');
  assert.equal(result.characters, text.length);
  assert.ok(result.tokens > 2000);
  assert.equal(result.keystrokes, 5);
  assert.ok(result.keystrokeMaxMs >= result.keystrokeMedianMs && result.keystrokeMedianMs >= 0);
});
