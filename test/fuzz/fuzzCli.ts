// `npm run fuzz [-- --cases N --seed S --verbose]`: the long fuzz run (default 2,000 cases), printing the
// counts per target and outcome, the worst time to recover, and every failure; exits 1 on a failure.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { runFuzz, totals } from './fuzzRunner';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string, fallback: number): number => {
    const i = args.indexOf(flag);
    return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
  };
  const cases = value('--cases', 2000);
  const seed = value('--seed', Date.now() % 2 ** 31);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pa-fuzz-'));
  try {
    const stats = await runFuzz({
      seed,
      cases,
      workDir: dir,
      ...(args.includes('--verbose') ? { log: (line: string) => console.log(line) } : {}),
    });
    console.log(
      JSON.stringify(
        {
          ...stats,
          totals: totals(stats),
          worstRecoverMs: Math.round(stats.worstRecoverMs),
          elapsedMs: Math.round(stats.elapsedMs),
        },
        null,
        2,
      ),
    );
    if (stats.failures.length > 0) process.exitCode = 1;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

void main();
