// The pre-tokenizers of GGUF `gpt2` vocabularies: for each `tokenizer.ggml.pre` name, the regexes llama.cpp
// (src/llama-vocab.cpp) splits the text with, in its own spellings (case-insensitive contractions written out,
// cased-word classes as std::regex can express them), whether the whole piece is looked up before merging
// (ignore_merges) and whether BOS is added when the file does not say. A name not listed is refused.
import { EngineError } from '../engineError';

const LLAMA3 =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const QWEN2 =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
// llama.cpp's std::regex-friendly forms of the cased-word patterns: "a letter that is not a-z" and "a letter
// that is not A-Z" stand for the upper- and lower-case classes (so é counts as both, as it does there).
const CONTRACTION = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?";
const UPPER = '((?=[\\p{L}])([^a-z]))';
const LOWER = '((?=[\\p{L}])([^A-Z]))';
const CASED = (suffix: string): string =>
  `[^\\r\\n\\p{L}\\p{N}]?${UPPER}*${LOWER}+${suffix}|[^\\r\\n\\p{L}\\p{N}]?${UPPER}+${LOWER}*${suffix}`;
const GPT4O = `${CASED(CONTRACTION)}|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
const TEKKEN = `${CASED('')}|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;

export interface PreTokenizerRule {
  readonly regexes: readonly string[];
  /** The whole piece is a token when it is in the vocabulary (llama.cpp's ignore_merges). */
  readonly ignoreMerges?: boolean;
  /** llama.cpp adds BOS for this pre-tokenizer unless the file says otherwise. */
  readonly addBos?: boolean;
}

const RULES: readonly { readonly names: readonly string[]; readonly rule: PreTokenizerRule }[] = [
  {
    names: ['llama3', 'llama-v3', 'llama-bpe', 'falcon3', 'falcon-h1', 'pixtral', 'midm-2.0', 'lfm2'],
    rule: { regexes: [LLAMA3], ignoreMerges: true, addBos: true },
  },
  { names: ['dbrx', 'smaug-bpe'], rule: { regexes: [LLAMA3] } },
  {
    names: ['qwen2', 'deepseek-r1-qwen', 'stablelm2', 'megrez', 'hunyuan'],
    rule: { regexes: [QWEN2] },
  },
  {
    names: ['smollm', 'starcoder', 'refact', 'command-r', 'codeshell', 'exaone', 'minerva-7b'],
    rule: { regexes: ['\\p{N}', GPT2] },
  },
  {
    names: ['gpt-2', 'phi-2', 'jina-es', 'jina-de', 'jina-v1-en', 'jina-v2-es', 'jina-v2-de', 'jina-v2-code'],
    rule: { regexes: [GPT2] },
  },
  {
    names: ['mpt', 'olmo', 'roberta-bpe', 'exaone4', 'jais', 'trillion', 'gigachat', 'mellum'],
    rule: { regexes: [GPT2] },
  },
  {
    names: ['', 'default'],
    rule: { regexes: ['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2, '\\p{N}+', '[0-9][0-9][0-9]'] },
  },
  {
    names: ['falcon'],
    rule: {
      regexes: [
        '[\\p{P}\\$\\+<=>\\^~\\|`]+',
        "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
        '[0-9][0-9][0-9]',
      ],
    },
  },
  {
    names: ['deepseek-coder'],
    rule: { regexes: ['[\\r\\n]', '\\s?\\p{L}+', '\\s?\\p{P}+', '[一-龥ࠀ-一가-퟿]+', '\\p{N}'] },
  },
  {
    names: ['gpt-4o', 'llama4'],
    rule: { regexes: [GPT4O] },
  },
  { names: ['tekken'], rule: { regexes: [TEKKEN], ignoreMerges: true, addBos: true } },
  {
    names: ['deepseek-v3'],
    rule: {
      regexes: [
        '\\p{N}{1,3}',
        '[一-龥\u3040-ゟ゠-ヿ]+',
        '[!"#$%&\'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+',
      ],
    },
  },
];

/** The rule for `tokenizer.ggml.pre` (empty: llama.cpp's default); one line naming a name it does not know. */
export function preTokenizerRule(pre: string): PreTokenizerRule {
  const found = RULES.find((r) => r.names.includes(pre));
  if (!found) throw new EngineError(`GGUF pre-tokenizer "${pre}" (tokenizer.ggml.pre) is not supported.`);
  return found.rule;
}
