// The `prompt-attention` command line: dispatches to `inspect` (the engine) and `cost` (context cost).
import { firstLine, stackOf } from '../shared/errorText';
import { runCostCommand } from './costCommand';
import { runInspectCommand } from './inspectCommand';

const USAGE = `usage: prompt-attention <command> [options]
commands:
  inspect <file|->   which tokens attend to which (run "prompt-attention inspect --help")
  cost <file|->      what the prompt costs on a target model (run "prompt-attention cost --help")`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'inspect':
      return runInspectCommand(rest);
    case 'cost':
      return runCostCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      (command === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`prompt-attention: unknown command "${command}".\n${USAGE}\n`);
      return 2;
  }
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`prompt-attention: internal error: ${firstLine(error)}\n`);
    if (argv.includes('--verbose')) process.stderr.write(`${stackOf(error)}\n`);
    process.exitCode = 1;
  },
);
