import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatBytes,
  formatCount,
  formatParameters,
  formatPrice,
  formatShare,
  formatSi,
  formatWindow,
} from '../../../src/shared/format';

test('numbers read the same on every machine', () => {
  assert.deepEqual([131072, 128000, 8192, 4096, 32768, 100].map(formatWindow), [
    '128k',
    '128k',
    '8k',
    '4k',
    '32k',
    '100',
  ]);
  assert.equal(formatCount(1234567.4), '1,234,567');
  assert.deepEqual([0, 0.0096, 0.529, 1, 1.5].map(formatShare), ['0.0 %', '0.96 %', '52.9 %', '100 %', '150 %']);
  assert.deepEqual([512, 131072, 1.5 * 1024 ** 3, 14.6 * 1024 ** 3].map(formatBytes), [
    '512 B',
    '128 KiB',
    '1.50 GiB',
    '14.6 GiB',
  ]);
  assert.equal(formatSi(2.46e15, 'FLOP'), '2.46 PFLOP');
  assert.equal(formatSi(999), '999');
  assert.deepEqual([8_030_261_248, 70_553_706_496, 13_015_864_320, 494_032_768, 100].map(formatParameters), [
    '8.03B',
    '70.6B',
    '13B',
    '494M',
    '100',
  ]);
  assert.deepEqual([0, 0.0031, 2.5].map(formatPrice), ['$0', '$0.0031', '$2.50']);
});
