// The `prompt-attention` command line: dispatches to `inspect` (the engine), `cost` (context cost), `attribute`,
// `diff` and `models` (the local models to choose from).
import { firstLine, stackOf } from '../shared/errorText';
import { runAttributeCommand } from './attributeCommand';
import { runCostCommand } from './costCommand';
import { runDiffCommand } from './diffCommand';
import { runInspectCommand } from './inspectCommand';
import { runModelsCommand } from './modelsCommand';

const USAGE = `usage: prompt-attention <command> [options]
commands:
  inspect <file|->   which tokens attend to which (run "prompt-attention inspect --help")
  cost <file|->      what the prompt costs on a target model (run "prompt-attention cost --help")
  attribute <file|-> which sections of the prompt the answer depends on (run "prompt-attention attribute --help")
  diff <old> <new>   two versions of a prompt, section by section (run "prompt-attention diff --help")
  models [--json]    the local models (Ollama, LM Studio, llama.cpp, Hugging Face cache) and the --model value for each`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'inspect':
      return runInspectCommand(rest);
    case 'cost':
      return runCostCommand(rest);
    case 'attribute':
      return runAttributeCommand(rest);
    case 'diff':
      return runDiffCommand(rest);
    case 'models':
      return runModelsCommand(rest);
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
