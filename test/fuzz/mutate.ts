// Seeded mutators for the fuzz run: a small PRNG (mulberry32, so a seed replays a case exactly), byte
// mutations of a binary file (the ONNX graph), structure-aware mutations of a JSON document (config.json,
// tokenizer.json) with hostile values, and webview messages built from valid ones.
import { WEBVIEW_MESSAGE_TYPES } from '../../src/shared/protocol';
import { seededRandom } from '../../src/shared/seededRandom';

export type Random = () => number;

export const seeded: (seed: number) => Random = seededRandom;

export function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function int(random: Random, below: number): number {
  return Math.floor(random() * below);
}

/** One of: flip bytes, truncate, zero a range, duplicate a range, cut a range. Returns the new bytes and what was
 * done. */
export function mutateBytes(random: Random, input: Uint8Array): { bytes: Uint8Array; how: string } {
  const bytes = Uint8Array.from(input);
  const at = int(random, bytes.length);
  switch (int(random, 5)) {
    case 0: {
      const count = 1 + int(random, 16);
      for (let i = 0; i < count; i++) bytes[int(random, bytes.length)] ^= 1 << int(random, 8);
      return { bytes, how: `flip ${count} bits` };
    }
    case 1:
      return { bytes: bytes.subarray(0, at), how: `truncate at ${at}` };
    case 2: {
      const length = 1 + int(random, 512);
      bytes.fill(0, at, at + length);
      return { bytes, how: `zero ${length} bytes at ${at}` };
    }
    case 3: {
      const length = 1 + int(random, 256);
      const copy = new Uint8Array(bytes.length + length);
      copy.set(bytes.subarray(0, at));
      copy.set(bytes.subarray(at, at + length), at);
      copy.set(bytes.subarray(at), at + Math.min(length, bytes.length - at));
      return { bytes: copy, how: `duplicate ${length} bytes at ${at}` };
    }
    default: {
      const length = 1 + int(random, 256);
      const copy = new Uint8Array(bytes.length - Math.min(length, bytes.length - at));
      copy.set(bytes.subarray(0, at));
      copy.set(bytes.subarray(at + length), at);
      return { bytes: copy, how: `cut ${length} bytes at ${at}` };
    }
  }
}

const HOSTILE: readonly unknown[] = [
  -1,
  0,
  1,
  1.5,
  -0.5,
  2 ** 31,
  2 ** 53,
  1e308,
  -1e308,
  'NaN',
  '12',
  '',
  'x'.repeat(100_000),
  null,
  true,
  false,
  [],
  {},
  [1, 2, 3],
  { __proto__: { polluted: true } },
  '\u0000',
  '\ud800',
  '../../etc/passwd',
];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function containers(root: Json, random: Random): { parent: Json[] | { [key: string]: Json }; key: string | number }[] {
  // A random walk down the document, collecting every (parent, key) it passes.
  const path: { parent: Json[] | { [key: string]: Json }; key: string | number }[] = [];
  let node: Json = root;
  for (let depth = 0; depth < 6 && node !== null && typeof node === 'object'; depth++) {
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    const key = pick(random, keys);
    path.push({ parent: node, key });
    node = Array.isArray(node) ? node[key as number] : node[key as string];
    if (random() < 0.3) break;
  }
  return path;
}

/** A structure-aware mutation of a JSON text (or a raw text mutation one time in five). */
export function mutateJson(
  random: Random,
  text: string,
  extras: readonly [string, unknown][] = [],
): { text: string; how: string } {
  if (random() < 0.2) {
    const { bytes, how } = mutateBytes(random, new TextEncoder().encode(text));
    return { text: new TextDecoder().decode(bytes), how: `text: ${how}` };
  }
  const root = JSON.parse(text) as Json;
  const steps = containers(root, random);
  if (random() < 0.25 && extras.length > 0 && root && typeof root === 'object' && !Array.isArray(root)) {
    const [key, value] = pick(random, extras);
    root[key] = value as Json;
    return { text: JSON.stringify(root), how: `set ${key} = ${JSON.stringify(value)?.slice(0, 60)}` };
  }
  const step = steps.at(-1);
  if (!step) return { text: '[]', how: 'replace the document with []' };
  const { parent, key } = step;
  const where = steps.map((s) => String(s.key)).join('.');
  const op = int(random, 3);
  if (op === 0 && !Array.isArray(parent)) {
    delete parent[key as string];
    return { text: JSON.stringify(root), how: `delete ${where}` };
  }
  const value = op === 1 ? pick(random, HOSTILE) : (steps[int(random, steps.length)].parent as Json);
  if (Array.isArray(parent)) parent[key as number] = value as Json;
  else parent[key as string] = value as Json;
  let out: string;
  try {
    out = JSON.stringify(root);
  } catch {
    out = '{"cycle":'; // a value that contains itself cannot be written: an unterminated document instead
  }
  return { text: out, how: `${where} = ${op === 1 ? JSON.stringify(value)?.slice(0, 60) : 'an ancestor'}` };
}

/** Pre-tokenizer patterns a downloaded tokenizer.json could carry: invalid, empty-matching, exotic. */
export const PRE_TOKENIZER_PATTERNS = [
  '(',
  '[',
  '\\',
  '',
  '.*',
  '(?:)',
  '\\p{L}+',
  '\\p{Zzz}',
  '(?<=a)b',
  '[\\s\\S]',
  'a{99999}',
];

export function splitPreTokenizer(pattern: string): unknown {
  return { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false };
}

/** A webview message: a valid one of a random type, then mangled (field removed, retyped, added, or replaced). */
export function mutateWebviewMessage(random: Random): unknown {
  const valid: Record<string, unknown>[] = [
    { type: 'ready' },
    { type: 'cancel' },
    { type: 'rerun', requestId: 1 + int(random, 100) },
    { type: 'focus', index: int(random, 50), attended: [{ index: 1, weight: 0.5 }], reveal: true },
    {
      type: 'export',
      requestId: 1 + int(random, 100),
      kind: pick(random, ['png', 'json', 'html']),
      pngDataUrl: 'data:image/png;base64,AAAA',
    },
  ];
  const message: Record<string, unknown> = { ...pick(random, valid) };
  const keys = Object.keys(message);
  switch (int(random, 6)) {
    case 0:
      return message;
    case 1:
      delete message[pick(random, keys)];
      return message;
    case 2:
      message[pick(random, keys)] = pick(random, HOSTILE);
      return message;
    case 3:
      message[pick(random, ['extra', '__proto__', 'constructor', 'then'])] = pick(random, HOSTILE);
      return message;
    case 4:
      message.type = pick(random, [...WEBVIEW_MESSAGE_TYPES.map((t) => t.toUpperCase()), 'inspect', 'eval', '', 42]);
      return message;
    default:
      return pick(random, HOSTILE);
  }
}
