// The panel's cost warnings honour the settings the status bar honours: thresholds, the KV budget and the
// KV dtype, not only the target and presets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeCostSummary } from '../../../src/cost/costSummary';
import { panelCostSummary } from '../../../src/cost/panelCost';

const text = readFileSync(join(__dirname, '../../fixtures/cost/texts/english.txt'), 'utf8');

test('thresholds, KV budget and KV dtype reach the panel cost summary', async () => {
  const settings: Record<string, unknown> = {
    target: 'llama-3.1-8b',
    warningThreshold: 0.0001,
    errorThreshold: 0.5,
    kvCacheBudgetGiB: 1e-5,
    kvDtype: 'fp8',
  };
  const panel = await panelCostSummary(text, (key) => settings[key]);
  const plain = await computeCostSummary(text, 'llama-3.1-8b');
  assert.deepEqual(plain.warnings, [], 'with the defaults this prompt raises no warning');
  assert.equal(panel.tokens, plain.tokens);
  assert.ok(
    panel.warnings.some((w) => /tokens use .* of Llama .*context window\.$/.test(w)),
    panel.warnings.join(' | '),
  );
  assert.ok(
    panel.warnings.some((w) => /^KV cache of .* \(fp8\) exceeds the .* budget after \d+ tokens\.$/.test(w)),
    panel.warnings.join(' | '),
  );
  // fp8 holds one byte per value where the default (fp16) holds two.
  assert.equal(panel.kvCacheBytes, (plain.kvCacheBytes ?? 0) / 2);
});

test('the defaults match the status bar defaults; an unknown target falls back as the status bar does', async () => {
  const defaults = await panelCostSummary(text, () => undefined);
  const plain = await computeCostSummary(text);
  assert.equal(defaults.target, plain.target);
  assert.deepEqual(defaults.warnings, plain.warnings);
  const unknown = await panelCostSummary(text, (key) => (key === 'target' ? 'no-such-model' : undefined));
  assert.equal(unknown.target, plain.target);
});
