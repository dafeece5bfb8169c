import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coverSections } from '../../../src/shared/promptSections';
import {
  computeCostDiagnostics,
  computeSectionLenses,
  percentLabels,
  statusForCount,
  statusForTooLarge,
} from '../../../src/cost/editorModels';
import { computeCost } from '../../../src/cost/costModel';
import { DEFAULT_COST_OPTIONS, type CostOptions } from '../../../src/cost/costSettings';
import { costWarnings } from '../../../src/cost/costSummary';
import { IncrementalCounter } from '../../../src/cost/incrementalCounter';
import { BUILT_IN_PRESETS, validatePreset, type TargetPreset } from '../../../src/cost/presets';
import type { TokenCounter } from '../../../src/cost/tokenCounters';

/** One token per word (whitespace-separated), so token numbers map to words. */
const wordCounter: TokenCounter = { tokenizer: 'llama3', count: (text) => text.split(/\s+/).filter(Boolean).length };

function tinyTarget(contextWindow: number, kvHeads = 1): TargetPreset {
  const result = validatePreset({
    id: 'tiny',
    name: 'Tiny',
    tokenizer: 'llama3',
    contextWindow,
    kvDtype: 'fp16',
    architecture: { layers: 1, attentionHeads: 2, kvHeads, headDim: 4, hiddenSize: 8, parameters: 1000 },
  });
  assert.ok('preset' in result);
  return result.preset;
}

/** Text of numbered words w1 … wN, ten per line. */
function words(n: number): string {
  const all = Array.from({ length: n }, (_, i) => `w${i + 1}`);
  const lines: string[] = [];
  for (let i = 0; i < n; i += 10) lines.push(all.slice(i, i + 10).join(' '));
  return `${lines.join('\n')}\n`;
}

const options: CostOptions = { warningShare: 0.8, errorShare: 1.0, kvBudgetBytes: 0 };

test('no diagnostic below the warning threshold', () => {
  const snapshot = new IncrementalCounter(wordCounter).update(words(79));
  assert.deepEqual(computeCostDiagnostics(snapshot, wordCounter, tinyTarget(100), options), []);
});

test('a warning on the token that reaches 80 %, to the end of its line', () => {
  const text = words(85);
  const snapshot = new IncrementalCounter(wordCounter).update(text);
  const [diagnostic, ...rest] = computeCostDiagnostics(snapshot, wordCounter, tinyTarget(100), options);
  assert.equal(rest.length, 0);
  assert.equal(diagnostic.severity, 'warning');
  assert.equal(diagnostic.code, 'context-warning');
  // Token 80 is "w80": the squiggle starts on it.
  assert.equal(diagnostic.start, text.indexOf('w80'));
  assert.equal(diagnostic.end, text.indexOf('\n', diagnostic.start));
  assert.match(
    diagnostic.message,
    /^Token 80 reaches 80\.0 % of Tiny's 100-token context window \(85 tokens in all, 85\.0 %\)\.$/,
  );
});

test('an error from the first token past the window to the end of the text', () => {
  const text = words(130);
  const snapshot = new IncrementalCounter(wordCounter).update(text);
  const diagnostics = computeCostDiagnostics(snapshot, wordCounter, tinyTarget(100), options);
  assert.deepEqual(
    diagnostics.map((d) => d.code),
    ['context-error'],
  );
  const [error] = diagnostics;
  assert.equal(error.severity, 'error');
  assert.equal(error.start, text.indexOf('w101'));
  assert.equal(error.end, text.length);
  assert.match(error.message, /30 tokens over the window/);
});

test('a KV-budget warning where the cache passes the budget', () => {
  const text = words(60);
  const snapshot = new IncrementalCounter(wordCounter).update(text);
  // 2 × 1 layer × 1 KV head × 4 dims × 2 bytes = 16 bytes per token: 800 bytes hold 50 tokens.
  const diagnostics = computeCostDiagnostics(snapshot, wordCounter, tinyTarget(1000), {
    ...options,
    kvBudgetBytes: 800,
  });
  assert.deepEqual(
    diagnostics.map((d) => d.code),
    ['kv-budget'],
  );
  assert.equal(diagnostics[0].start, text.indexOf('w51'));
  assert.match(
    diagnostics[0].message,
    /passes the 800 B budget at token 51 \(fp16; 960 B for the whole prompt on Tiny\)/,
  );
  // Targets without a public architecture are never KV-checked.
  const gpt4 = BUILT_IN_PRESETS.find((preset) => preset.id === 'gpt-4');
  assert.ok(gpt4);
  assert.deepEqual(computeCostDiagnostics(snapshot, wordCounter, gpt4, { ...options, kvBudgetBytes: 1 }), []);
});

test('CodeLens per section: tokens and its share of the causal attention work, the shares adding up to 100 %', () => {
  const text = '# Setup\none two three four five six seven eight nine ten\n\n# Task\none\n';
  const snapshot = new IncrementalCounter(wordCounter).update(text);
  const lenses = computeSectionLenses(snapshot, coverSections(text));
  assert.deepEqual(
    lenses.map((lens) => lens.anchor),
    [0, text.indexOf('# Task')],
  );
  assert.deepEqual(
    lenses.map((lens) => lens.tokens),
    [12, 3],
  );
  // n = 15: the causal work is 15·16/2 = 120 query-key pairs; Setup's queries 1..12 see 78 of them
  // (65 %), Task's queries 13..15 see 42 (35 %).
  assert.deepEqual(
    lenses.map((lens) => lens.title),
    ['12 tokens · 65 % of attention', '3 tokens · 35 % of attention'],
  );
  assert.ok(Math.abs(lenses[0].attentionShare - 78 / 120) < 1e-12);
  assert.ok(Math.abs(lenses[0].attentionShare + lenses[1].attentionShare - 1) < 1e-12);
  // The figure for removing a section is kept in the tooltip, labelled: (15² − 12²) / 15² = 36 %.
  assert.match(lenses[1].tooltip, /Removing it saves 36\.0 % of the n² work/);
});

test('lens percents add up to 100 even where rounding each would not', () => {
  assert.deepEqual(percentLabels([1, 1, 1]), ['34 %', '33 %', '33 %']);
  assert.deepEqual(percentLabels([0.004, 0.5, 0.496]), ['<1 %', '50 %', '50 %']);
});

test('status bar: count and share for the target, level by threshold, breakdown table in the tooltip', () => {
  const llama = BUILT_IN_PRESETS.find((preset) => preset.id === 'llama-3.1-8b');
  assert.ok(llama);
  const figures = computeCost(llama, 120_000);
  const status = statusForCount(
    llama,
    figures,
    DEFAULT_COST_OPTIONS,
    costWarnings(llama, figures, DEFAULT_COST_OPTIONS),
  );
  assert.equal(status.text, '$(warning) 120,000 tok · 91.6 % of Llama 3.1 8B');
  assert.equal(status.level, 'warning');
  assert.match(status.tooltip, /^\| \| \|\n\|:--\|:--\|\n\| \*\*Target\*\* \| Llama 3\.1 8B \(llama-3\.1-8b\) \|/);
  assert.match(status.tooltip, /\| \*\*KV cache\*\* \| 14\.6 GiB \(bf16, 128 KiB per token, 8 KV heads\) \|/);
  assert.match(status.tooltip, /- KV cache of 14\.6 GiB \(bf16\) exceeds the 8 GiB budget after 65,536 tokens\./);
  const gpt4o = BUILT_IN_PRESETS.find((preset) => preset.id === 'gpt-4o');
  assert.ok(gpt4o);
  const small = statusForCount(gpt4o, computeCost(gpt4o, 1234), DEFAULT_COST_OPTIONS, []);
  assert.equal(small.text, '$(pulse) 1,234 tok · 0.96 % of GPT-4o');
  assert.equal(small.level, 'ok');
  assert.match(small.tooltip, /\| \*\*Attention FLOPs\*\* \| unknown \(architecture not public\) \|/);
  assert.equal(statusForCount(gpt4o, computeCost(gpt4o, 200_000), DEFAULT_COST_OPTIONS, []).level, 'error');
  assert.match(statusForTooLarge(3 * 1024 * 1024, 1024 * 1024).text, /3 MiB: too large to count/);
});
