// `prompt-attention models [--json]`: the models this machine has (the embedded one, Ollama, LM Studio,
// llama.cpp, the Hugging Face cache) and a few Hub ids, as Choose Model… lists them. `model` is the value
// for `--model`. JSON: an array of { name, source, model, format, architecture, bytes, quant, context }.
import * as path from 'node:path';
import type { DiscoveredModel, StoreEnv } from '../engine/inspectApi';
import { DEFAULT_MODEL_NAME, defaultStoreEnv, discoverModels } from '../engine/inspectApi';
import { firstLine } from '../shared/errorText';
import { formatBytes, formatCount } from '../shared/format';

export interface ModelsCommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

export const MODELS_USAGE = 'usage: prompt-attention models [--json] [--verbose]';

/** The fields of a JSON entry, in order. */
export const MODEL_JSON_FIELDS = [
  'name',
  'source',
  'model',
  'format',
  'architecture',
  'bytes',
  'quant',
  'context',
] as const;

/** The entry with exactly the documented fields, in their order. */
export function modelJson(m: DiscoveredModel): Record<(typeof MODEL_JSON_FIELDS)[number], unknown> {
  return {
    name: m.name,
    source: m.source,
    model: m.model,
    format: m.format,
    architecture: m.architecture,
    bytes: m.bytes,
    quant: m.quant,
    context: m.context,
  };
}

/** One row per model, columns padded; the MODEL column is what to pass to --model ("" for the embedded one). */
export function modelsTable(models: readonly DiscoveredModel[]): string {
  const rows = [
    ['NAME', 'SOURCE', 'FORMAT', 'ARCH', 'SIZE', 'QUANT', 'CONTEXT', 'MODEL'],
    ...models.map((m) => [
      m.name,
      m.source,
      m.format,
      m.architecture ?? '-',
      m.bytes === null ? '-' : formatBytes(m.bytes),
      m.quant ?? '-',
      m.context === null ? '-' : formatCount(m.context),
      m.model === '' ? '""' : m.model,
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '))
    .join('\n');
}

/** dist/cli.js → ../models/<embedded> (the embedded model ships next to dist/). */
function embeddedFolder(): string {
  return path.join(__dirname, '..', 'models', DEFAULT_MODEL_NAME);
}

export async function runModelsCommand(
  argv: readonly string[],
  io: ModelsCommandIo = process,
  store: StoreEnv = defaultStoreEnv(),
): Promise<number> {
  let json = false;
  let verbose = false;
  for (const arg of argv) {
    if (arg === '--json') json = true;
    else if (arg === '--verbose') verbose = true;
    else if (arg === '-h' || arg === '--help') {
      io.stdout.write(`${MODELS_USAGE}\n`);
      return 0;
    } else {
      io.stderr.write(`prompt-attention models: unknown argument "${arg}".\n${MODELS_USAGE}\n`);
      return 2;
    }
  }
  const models = await discoverModels({
    store,
    embeddedFolder: embeddedFolder(),
    onSkip: (where, reason) => {
      if (verbose) io.stderr.write(`prompt-attention models: skipped ${where}: ${firstLine(reason)}\n`);
    },
  });
  io.stdout.write(json ? `${JSON.stringify(models.map(modelJson), null, 2)}\n` : `${modelsTable(models)}\n`);
  return 0;
}
