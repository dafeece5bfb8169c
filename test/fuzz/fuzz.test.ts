// The seeded fuzz run that `npm test` includes: 200 cases over the model graph, config.json,
// tokenizer.json, the inspected text and webview messages. Every case ends in a clean result or one user
// line, and the next inspection works. `npm run fuzz` runs the long version (test/fuzz/fuzzCli.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTempDir, removeTempDir } from '../helpers/tinyModel';
import { runFuzz, totals } from './fuzzRunner';

test(
  '200 seeded fuzz cases: each a clean result or one line, and the next inspection works',
  { timeout: 240_000 },
  async (t) => {
    const dir = await makeTempDir('pa-fuzz-');
    try {
      const stats = await runFuzz({ seed: 0x15f00d, cases: 200, workDir: dir });
      const sum = totals(stats);
      t.diagnostic(
        JSON.stringify({
          cases: stats.cases,
          ...sum,
          workerRestarts: stats.workerRestarts,
          worstRecoverMs: Math.round(stats.worstRecoverMs),
          worst: stats.worstRecoverCase,
          elapsedMs: Math.round(stats.elapsedMs),
        }),
      );
      assert.deepEqual(stats.failures, []);
      assert.equal(sum.clean + sum.line, 200);
      // The mutations reach both outcomes (a fuzzer whose every case is refused, or accepted, tests little).
      assert.ok(sum.clean > 0 && sum.line > 0);
    } finally {
      await removeTempDir(dir);
    }
  },
);
