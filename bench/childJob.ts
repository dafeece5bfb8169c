// The benches that measure in a fresh process (cold start, real size, …) write a job file, run a child script
// on it with Node and tsx, and read the JSON report the child prints on its last line: one place for that.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';

export interface ChildJob {
  /** The child script, under bench/. */
  readonly script: string;
  /** Where the job is written as JSON (the child's one argument). */
  readonly jobFile: string;
  readonly timeoutMs: number;
  /** Names the child in errors: "<label> child failed: …". */
  readonly label: string;
}

/** Runs `bench/<script> <jobFile>` from `root` on `job`; resolves to the report on its last stdout line. */
export function runChildJob<Report>(root: string, child: ChildJob, job: unknown): Promise<Report> {
  writeFileSync(child.jobFile, JSON.stringify(job));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'bench', child.script), child.jobFile],
      { cwd: root, timeout: child.timeoutMs, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error)
          return reject(new Error(`${child.label} child failed: ${(stderr || error.message).trim().split('\n')[0]}`));
        try {
          resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Report);
        } catch {
          reject(new Error(`${child.label} child printed no report: ${stdout.slice(0, 200)}`));
        }
      },
    );
  });
}
