// The benchmark suite runs end to end on tiny sizes and writes every key the benchmark contract names. No time is
// asserted: benchmarks print and record, they never fail on a number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TOKENIZER_IDS } from '../../../src/cost/presets';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const hasChromium = existsSync('/usr/bin/chromium');

function lookup(json: unknown, key: string): unknown {
  return key
    .split('.')
    .reduce<unknown>(
      (value, part) =>
        value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined,
      json,
    );
}

function isPositiveNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

function isMapOfPositiveNumbers(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    Object.keys(value).length > 0 &&
    Object.values(value).every(isPositiveNumber)
  );
}

test(
  'npm run bench:tiny runs every section and writes results.json with the named keys and results.md',
  { timeout: 600_000 },
  async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'pa-bench-test-'));
    try {
      const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
        (resolve) => {
          execFile(
            process.execPath,
            ['--import', 'tsx', path.join(ROOT, 'bench', 'run.ts'), '--tiny', '--out', out],
            { cwd: ROOT, maxBuffer: 1 << 22 },
            (error, stdout, stderr) =>
              resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
          );
        },
      );
      assert.equal(code, 0, `the suite failed:\n${stderr}\n${stdout.slice(-2000)}`);
      const json = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as unknown;
      assert.equal(lookup(json, 'meta.tiny'), true);
      assert.deepEqual(lookup(json, 'meta.errors'), []);

      const numbers = [
        'engine.ratioFullToRaw512',
        'explain.ratioToRaw512x8',
        'coldStartMs',
        'workerPeakBytes',
        'payload.bytes2048',
        'payload.jsonBytes2048',
        'cost.keystrokeP95Ms100KB',
      ];
      const webview = ['webview.firstPaintMs2048', 'webview.hoverP95Ms512', 'webview.hoverP95Ms2048'];
      for (const key of [...numbers, ...(hasChromium ? webview : [])])
        assert.ok(isPositiveNumber(lookup(json, key)), `${key} is a positive number`);
      for (const key of ['engine.rawMs', 'engine.tappedMs', 'engine.fullMs']) {
        assert.ok(isMapOfPositiveNumbers(lookup(json, key)), `${key} maps token counts to times`);
        assert.ok(
          Object.keys(lookup(json, key) as object).every((k) => /^\d+$/.test(k)),
          `${key} is keyed by token count`,
        );
      }
      const tokenizers = lookup(json, 'cost.tokenizerMBps') as Record<string, number>;
      assert.ok(isMapOfPositiveNumbers(tokenizers));
      // Every tokenizer a target can name is measured.
      assert.deepEqual(Object.keys(tokenizers).sort(), [...TOKENIZER_IDS].sort());
      // The compact payload is smaller than the same attention as a JSON array of numbers.
      assert.ok((lookup(json, 'payload.bytes2048') as number) < (lookup(json, 'payload.jsonBytes2048') as number));

      const markdown = readFileSync(path.join(out, 'results.md'), 'utf8');
      assert.match(markdown, /\| Budget \| Value \| Limit \| Met \|/);
      assert.match(markdown, /Machine: .+ cores, .+ GiB RAM/);
      assert.match(markdown, /Node v\d+/);
      assert.match(markdown, /Rerun: `npm run bench:tiny`/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);
