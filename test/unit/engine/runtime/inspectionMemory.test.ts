// The memory estimate that sets the token limit: statistics recomputed from Q and K in row blocks make the
// 0.5B shape's 8,192 tokens fit where every head's n² did not; the kept Q and K (fp16) are counted twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectionBytes, tokensThatFit } from '../../../../src/engine/runtime/inspectionMemory';

const QWEN = { layers: 24, heads: 14, hidden: 896, intermediate: 4864 };
const KEPT = { kvHeads: 2, headDim: 64 };
const GiB = 2 ** 30;

test('blocked statistics: the 0.5B shape inspects 8,192 tokens in a few GiB, not every head’s n²', () => {
  const blocked = inspectionBytes({ ...QWEN, ...KEPT, blocked: true }, 8192);
  const probabilities = inspectionBytes(QWEN, 8192);
  assert.ok(blocked < 4 * GiB, `${blocked / GiB} GiB`);
  assert.ok(probabilities > 10 * GiB, `${probabilities / GiB} GiB`);
  assert.ok(tokensThatFit({ ...QWEN, ...KEPT, blocked: true }, 6 * GiB) >= 8192);
  // Up to the block threshold the layer is recomputed whole: the same terms as a Softmax export.
  assert.equal(inspectionBytes({ ...QWEN, blocked: true }, 2048), inspectionBytes(QWEN, 2048));
});

test('kept Q and K are counted: 2 copies × layers × 2 bytes × (heads + kv heads) × n × head width', () => {
  const n = 4096;
  const extra = inspectionBytes({ ...QWEN, ...KEPT }, n) - inspectionBytes(QWEN, n);
  assert.equal(extra, 2 * 24 * 2 * (14 + 2) * n * 64);
});

test('blocked: the estimate covers the measured peaks of the q4 0.5B shape, and lets 32,768 tokens fit in 20 GiB', () => {
  // Measured 2026-12-07 (bench/longctxChild.ts inspect jobs, rows on demand, 64-row blocks, K in fp16, band sums):
  // peak RSS 1,586 and 2,619 MiB at 8,192 and 16,384 tokens, over 560 and about 580 MiB before the run (what the
  // estimate leaves out: the process with its session).
  const MiB = 2 ** 20;
  const shape = { ...QWEN, ...KEPT, blocked: true };
  for (const [n, peak, before] of [
    [8192, 1586, 560],
    [16384, 2619, 580],
  ]) {
    const estimate = inspectionBytes(shape, n) / MiB;
    assert.ok(estimate >= peak - before, `${estimate} MiB at ${n}`);
    // Not padded far past them either (the limit must not cut below what the run can do).
    assert.ok(estimate <= 1.3 * (peak - before), `${estimate} MiB at ${n}`);
  }
  assert.ok(tokensThatFit(shape, 20 * GiB) >= 32768, `${tokensThatFit(shape, 20 * GiB)} tokens in 20 GiB`);
});
