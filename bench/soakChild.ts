// Runs the soak (soakBench.ts) in a fresh Node process, so its RSS figures are the worker's alone and not
// the memory the bench's earlier sections left in the parent (in one process the soak read -142 MiB of
// "growth" as that memory was freed). Reads the job from the JSON file in argv[2], logs progress to stderr
// and prints the SoakResult as one JSON line.
import { readFileSync } from 'node:fs';
import type { SoakJob } from './soakBench';
import { runSoakBench } from './soakBench';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8')) as SoakJob;
runSoakBench({ ...job, log: (line) => process.stderr.write(`${line}\n`) }).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
