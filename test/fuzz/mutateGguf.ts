// GGUF mutations for the fuzz run: byte mutations confined to the header, metadata and tensor infos (the
// data after them is weights, where a flipped bit is a valid file), and structured metadata edits that a
// parser accepts but a model builder must refuse (absurd counts, zero heads, a vocabulary larger than the
// embedding, another architecture, a tensor of an unknown type).
import type { GgufFixture } from '../helpers/ggufFixtures';
import { tinyVocabulary } from '../helpers/ggufFixtures';
import type { TypedValue } from '../helpers/ggufWriter';
import { f32, f32s, GGUF_ALIGNMENT, i32s, str, strings, u32, writeGguf } from '../helpers/ggufWriter';
import type { Random } from './mutate';
import { mutateBytes, pick } from './mutate';

function metadataEdits(arch: string): [string, Record<string, TypedValue>][] {
  const v = tinyVocabulary(1000);
  return [
    ['block_count 1e9', { [`${arch}.block_count`]: u32(1e9) }],
    ['block_count 7', { [`${arch}.block_count`]: u32(7) }],
    ['head_count 0', { [`${arch}.attention.head_count`]: u32(0) }],
    ['head_count_kv 3', { [`${arch}.attention.head_count_kv`]: u32(3) }],
    ['embedding_length 255', { [`${arch}.embedding_length`]: u32(255) }],
    ['context_length 0', { [`${arch}.context_length`]: u32(0) }],
    ['rope.dimension_count 7', { [`${arch}.rope.dimension_count`]: u32(7) }],
    ['rms epsilon NaN', { [`${arch}.attention.layer_norm_rms_epsilon`]: f32(NaN) }],
    ['architecture gpt2', { 'general.architecture': str('gpt2') }],
    ['architecture as a number', { 'general.architecture': u32(3) }],
    [
      'vocabulary of 1000',
      {
        'tokenizer.ggml.tokens': strings(v.tokens),
        'tokenizer.ggml.scores': f32s(v.scores),
        'tokenizer.ggml.token_type': i32s(v.types),
      },
    ],
    ['no tokens', { 'tokenizer.ggml.tokens': strings([]) }],
    ['bos id 10⁶', { 'tokenizer.ggml.bos_token_id': u32(1e6) }],
  ];
}

/** One mutation of the fixture's file. */
export function mutateGguf(random: Random, fixture: GgufFixture): { bytes: Uint8Array; how: string } {
  const arch = fixture.options.arch;
  const choice = random();
  if (choice < 0.4) {
    const [how, edit] = pick(random, metadataEdits(arch));
    return { bytes: writeGguf({ ...fixture.metadata, ...edit }, fixture.tensors), how };
  }
  if (choice < 0.5) {
    const tensors = fixture.tensors.map((t, i) =>
      i === 3 ? { ...t, type: pick(random, [4, 5, 16, 23, 41, 1000]) } : t,
    );
    return { bytes: writeGguf(fixture.metadata, tensors), how: `tensor 3 of type ${tensors[3].type}` };
  }
  const dataBytes = fixture.tensors.reduce(
    (sum, t) => sum + Math.ceil(t.bytes.length / GGUF_ALIGNMENT) * GGUF_ALIGNMENT,
    0,
  );
  const headerLength = fixture.bytes.length - dataBytes;
  const mutated = mutateBytes(random, fixture.bytes.subarray(0, headerLength));
  const bytes = new Uint8Array(mutated.bytes.length + dataBytes);
  bytes.set(mutated.bytes);
  bytes.set(fixture.bytes.subarray(headerLength), mutated.bytes.length);
  return { bytes, how: `header: ${mutated.how}` };
}
