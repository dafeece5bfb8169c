// The download line the progress notification shows: bytes, speed over the last seconds, time left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DownloadRate, downloadLine, formatDuration } from '../../../src/shared/downloadRate';

const MB = 1024 * 1024;

test('speed is measured over the last seconds and gives the time left', () => {
  const rate = new DownloadRate(5000);
  rate.add(0, 0);
  assert.equal(rate.bytesPerSecond(), null, 'no rate from one sample');
  rate.add(2 * MB, 1000);
  rate.add(4 * MB, 2000);
  assert.equal(rate.bytesPerSecond(), 2 * MB);
  assert.equal(rate.secondsLeft(10 * MB), 3);
  assert.equal(downloadLine(4 * MB, 10 * MB, rate), '4.0 MB of 10.0 MB · 2.0 MB/s · 3 s left');
  // Older samples leave the window: a slowdown shows within it.
  for (let t = 3000; t <= 12000; t += 1000) rate.add(4 * MB + ((t - 2000) / 1000) * 0.5 * MB, t);
  assert.equal(rate.bytesPerSecond(), 0.5 * MB);
});

test('a new download (bytes going down) starts a new measurement; unknown totals show bytes only', () => {
  const rate = new DownloadRate();
  rate.add(5 * MB, 0);
  rate.add(6 * MB, 1000);
  rate.add(100, 1500);
  assert.equal(rate.bytesPerSecond(), null);
  assert.equal(downloadLine(100, undefined, rate), '100 B');
  assert.equal(formatDuration(125), '2 min 5 s');
  assert.equal(formatDuration(3 * 3600 + 600), '3 h 10 min');
});
