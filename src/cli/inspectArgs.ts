// Argument parsing for `prompt-attention inspect`.
import type { ModelDtype, TokenWindow } from '../engine/inspectApi';
import { isModelDtype, MODEL_DTYPES } from '../engine/inspectApi';
import type { ExecutionProviderSetting } from '../shared/protocol';

export const INSPECT_USAGE =
  'usage: prompt-attention inspect <file|-> [--model <folder|hub id>] [--dtype auto|fp32|fp16|q8|int8|uint8|q4|q4f16|bnb4] [--provider auto|cpu|webgpu|cuda|dml|coreml] ' +
  '[--format json|html|text] [--out <file>] [--dense] [--max-tokens N] [--window start|end] [--max-characters N] ' +
  '[--cache-dir <dir>] [--hub-endpoint <url>] [--chat] [--generate N [--temperature T] [--seed S]] [--answer <file>] [--weighting attention|value-norm] [--verbose]';

export const INSPECT_HELP = `${INSPECT_USAGE}

Runs a small transformer on the text and reports which tokens attend to which.
  <file|->            text file to inspect, or - for standard input
  --model             model folder (Hugging Face layout with onnx/model.onnx, or holding one .gguf), a .gguf file,
                      ollama:<name>[:<tag>], or Hub id; default: the embedded model (prompt-attention models lists them)
  --dtype             which ONNX file of the model runs: fp32 onnx/model.onnx, fp16 model_fp16, q8 model_quantized,
                      int8, uint8, q4, q4f16, bnb4 model_<dtype>; default auto: full precision when it fits
                      comfortably in memory, else a quantized file
  --provider          onnxruntime execution provider (default auto: GPU when available, else CPU)
  --format            json (one JSON document), html (self-contained report file), text (short summary);
                      default: text on a terminal, json when standard output is piped
  --out               output file (html default: <input name>.attention.html in the current folder)
  --dense             json only: include attention[layer][head][query][key] (at most 512 tokens)
  --max-tokens        inspect at most N tokens (default: the model's context)
  --window            which end of an over-long input to keep (default start)
  --max-characters    refuse longer text (default 200000)
  --cache-dir         tapped graphs and downloaded models (default $XDG_CACHE_HOME/prompt-attention or ~/.cache/prompt-attention)
  --hub-endpoint      Hub server to download from (default https://huggingface.co/)
  --chat              inspect the text as a chat through the model's chat template, ending where the answer starts:
                      the text is the system message, or holds system:/user: blocks, ## System/## User headings
                      or .prompty role lines; tokens get a role, template tokens have null start/end in JSON
  --generate          let the model continue the prompt (through its chat template with --chat) by at most N
                      tokens, each token's attention captured; JSON gains answer {text, tokens}; with --dense the
                      answer tokens' rows follow the prompt's, over prompt and answer keys
  --temperature       sample the answer at this temperature (default 0: greedy, deterministic)
  --seed              the sampling seed (default 1)
  --answer            read this file's text as the answer after the inspected text (as the panel's Answer from
                      file… does), each token's attention captured in one pass; JSON gains answer {text, tokens}
                      as with --generate, and with --dense the answer tokens' rows
  --weighting         value-norm: json gains attention[layer][head][query][key] weighted by "attention × value
                      norm" (Kobayashi et al. 2020): α_ij·‖v_j W_O^h‖, each row normalized to sum to 1 (at most 512
                      tokens); default attention
  --verbose           log the stages, timings and any error's stack to standard error
Exit codes: 0 ok, 1 bad input or model error, 2 usage error.`;

export type OutputFormat = 'json' | 'html' | 'text';

export interface InspectArgs {
  readonly file: string;
  readonly model: string;
  readonly dtype: ModelDtype;
  readonly provider: ExecutionProviderSetting;
  readonly format: OutputFormat | null;
  readonly out: string | null;
  readonly dense: boolean;
  readonly maxTokens: number;
  readonly window: TokenWindow;
  readonly maxCharacters: number;
  readonly cacheDir: string | null;
  readonly hubEndpoint: string | null;
  readonly verbose: boolean;
  readonly chat: boolean;
  /** Answer tokens to generate after the prompt; 0: none. */
  readonly generate: number;
  readonly temperature: number;
  readonly seed: number;
  readonly weighting: Weighting;
  /** A file whose text is read as the answer after the inspected text; null: none. */
  readonly answer: string | null;
}

export type Weighting = 'attention' | 'value-norm';

export class UsageError extends Error {}

const PROVIDERS: readonly ExecutionProviderSetting[] = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'];
const FORMATS: readonly OutputFormat[] = ['json', 'html', 'text'];
const VALUE_OPTIONS = new Set([
  '--model',
  '--dtype',
  '--provider',
  '--format',
  '--out',
  '--max-tokens',
  '--window',
  '--max-characters',
  '--cache-dir',
  '--hub-endpoint',
  '--generate',
  '--temperature',
  '--seed',
  '--weighting',
  '--answer',
]);

function positiveInt(option: string, value: string, allowZero: boolean): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || (!allowZero && n === 0))
    throw new UsageError(`${option} needs a ${allowZero ? 'non-negative' : 'positive'} integer, not "${value}".`);
  return n;
}

/** Parses the arguments after `inspect`; 'help' for -h/--help. */
export function parseInspectArgs(argv: readonly string[]): InspectArgs | 'help' {
  const values = new Map<string, string>();
  let dense = false;
  let verbose = false;
  let chat = false;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '--dense') {
      dense = true;
      continue;
    }
    if (arg === '--chat') {
      chat = true;
      continue;
    }
    if (arg === '--verbose') {
      verbose = true;
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(0, eq) : arg;
      if (!VALUE_OPTIONS.has(name)) throw new UsageError(`Unknown option ${name}.`);
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value.`);
      values.set(name, value);
      continue;
    }
    positional.push(arg);
  }
  if (positional.length === 0) throw new UsageError('Missing the file to inspect (or - for standard input).');
  if (positional.length > 1)
    throw new UsageError(`Expected one file, got ${positional.length}: ${positional.join(' ')}.`);
  const provider = (values.get('--provider') ?? 'auto') as ExecutionProviderSetting;
  if (!PROVIDERS.includes(provider)) throw new UsageError(`--provider must be one of ${PROVIDERS.join(', ')}.`);
  const dtype = values.get('--dtype') ?? 'auto';
  if (!isModelDtype(dtype)) throw new UsageError(`--dtype must be one of ${MODEL_DTYPES.join(', ')}.`);
  const format = (values.get('--format') ?? null) as OutputFormat | null;
  if (format !== null && !FORMATS.includes(format))
    throw new UsageError(`--format must be one of ${FORMATS.join(', ')}.`);
  const window = (values.get('--window') ?? 'start') as TokenWindow;
  if (window !== 'start' && window !== 'end') throw new UsageError('--window must be start or end.');
  if (dense && format !== null && format !== 'json') throw new UsageError('--dense goes with --format json.');
  const temperatureText = values.get('--temperature');
  const temperature = temperatureText === undefined ? 0 : Number(temperatureText);
  if (!Number.isFinite(temperature) || temperature < 0 || temperatureText?.trim() === '')
    throw new UsageError(`--temperature needs a number ≥ 0, not "${temperatureText}".`);
  const generate = values.has('--generate') ? positiveInt('--generate', values.get('--generate') as string, false) : 0;
  const weighting = (values.get('--weighting') ?? 'attention') as Weighting;
  if (weighting !== 'attention' && weighting !== 'value-norm')
    throw new UsageError('--weighting must be attention or value-norm.');
  if (weighting === 'value-norm' && format !== null && format !== 'json')
    throw new UsageError('--weighting value-norm goes with --format json.');
  if (weighting === 'value-norm' && generate > 0)
    throw new UsageError('--weighting value-norm covers the prompt; leave out --generate.');
  if (generate === 0 && (values.has('--temperature') || values.has('--seed')))
    throw new UsageError('--temperature and --seed go with --generate N.');
  const answer = values.get('--answer') ?? null;
  if (answer !== null && generate > 0) throw new UsageError('--answer reads an answer; leave out --generate.');
  if (answer !== null && chat)
    throw new UsageError('--answer reads the answer after the plain text; leave out --chat.');
  if (answer !== null && weighting === 'value-norm')
    throw new UsageError('--weighting value-norm covers the prompt; leave out --answer.');
  return {
    file: positional[0],
    model: values.get('--model') ?? '',
    dtype,
    provider,
    format,
    out: values.get('--out') ?? null,
    dense,
    maxTokens: values.has('--max-tokens')
      ? positiveInt('--max-tokens', values.get('--max-tokens') as string, false)
      : 0,
    window,
    maxCharacters: values.has('--max-characters')
      ? positiveInt('--max-characters', values.get('--max-characters') as string, false)
      : 200_000,
    cacheDir: values.get('--cache-dir') ?? null,
    hubEndpoint: values.get('--hub-endpoint') ?? null,
    verbose,
    chat,
    generate,
    temperature,
    weighting,
    seed: values.has('--seed') ? positiveInt('--seed', values.get('--seed') as string, true) : 1,
    answer,
  };
}
