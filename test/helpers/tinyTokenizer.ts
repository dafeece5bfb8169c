// A tiny byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json in the Hugging Face format,
// like the default model's: GPT-2 byte alphabet, TemplateProcessing that adds a BOS). Merges are learned
// from a small multilingual corpus, so some tokens hold part of a multi-byte character.

const BOS = '<|begin_of_text|>';
const EOS = '<|end_of_text|>';

const CORPUS = [
  'The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs.',
  'Prompt engineering: the model attends to the instructions and the examples.',
  'Café, naïve, résumé, déjà vu — accented words appear here and there.',
  '中文文本：注意力机制。日本語のテキストも少し。中文中文。',
  'Emoji 🙂🙂 and flags 🇫🇷 with thumbs 👍🏽 in the middle of text 🙂.',
  'function attention(query, key) { return softmax(query * key); }',
].join('\n');

const PRE_TOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

function byteEncoder(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const set = new Set(printable);
  const table: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(set.has(b) ? b : 256 + extra++);
  return table;
}

export interface TinyTokenizerFiles {
  readonly tokenizerJson: string;
  readonly tokenizerConfigJson: string;
  readonly vocabSize: number;
  readonly bosId: number;
}

export function buildTinyTokenizer(mergeCount = 120): TinyTokenizerFiles {
  const table = byteEncoder();
  const encoder = new TextEncoder();
  const words = (CORPUS.match(PRE_TOKENIZE) ?? []).map((w) => Array.from(encoder.encode(w), (b) => table[b]));
  const vocab: Record<string, number> = {};
  table.forEach((ch, i) => (vocab[ch] = i));
  const merges: string[] = [];
  for (let m = 0; m < mergeCount; m++) {
    const counts = new Map<string, number>();
    for (const word of words)
      for (let i = 0; i + 1 < word.length; i++) {
        const pair = `${word[i]} ${word[i + 1]}`;
        counts.set(pair, (counts.get(pair) ?? 0) + 1);
      }
    let best = '';
    let bestCount = 1;
    for (const [pair, count] of counts) if (count > bestCount) [best, bestCount] = [pair, count];
    if (!best) break;
    const [a, b] = best.split(' ');
    merges.push(best);
    vocab[a + b] = Object.keys(vocab).length;
    for (const word of words) {
      for (let i = 0; i + 1 < word.length; i++) {
        if (word[i] === a && word[i + 1] === b) word.splice(i, 2, a + b);
      }
    }
  }
  const base = Object.keys(vocab).length;
  const special = (content: string, id: number): Record<string, unknown> => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(BOS, base), special(EOS, base + 1)],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: BOS, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: BOS, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { [BOS]: { id: BOS, ids: [base], tokens: [BOS] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: BOS,
    eos_token: EOS,
    clean_up_tokenization_spaces: false,
    model_max_length: 2048,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
  return {
    tokenizerJson: JSON.stringify(tokenizer),
    tokenizerConfigJson: JSON.stringify(config),
    vocabSize: base + 2,
    bosId: base,
  };
}
