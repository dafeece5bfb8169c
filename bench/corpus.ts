// Deterministic prompt text for the benchmarks, built from the repository's example prompts and the cost
// fixtures: repeated, with lines reordered and numbers changed per copy so it is not one block over and over.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { seededRandom } from './stats';

const SOURCE_DIRS = ['examples', path.join('test', 'fixtures', 'cost', 'texts')];

/** The source prompts, in a fixed order. */
export function promptSources(root: string): string[] {
  const texts: string[] = [];
  for (const dir of SOURCE_DIRS) {
    const full = path.join(root, dir);
    for (const name of readdirSync(full).sort()) {
      if (/\.(md|txt)$/.test(name)) texts.push(readFileSync(path.join(full, name), 'utf8'));
    }
  }
  if (texts.length === 0) throw new Error(`no prompt sources found under ${SOURCE_DIRS.join(', ')}`);
  return texts;
}

/** One varied copy of a source: its paragraphs in a shuffled order and its numbers replaced. */
function variedCopy(source: string, copy: number, random: () => number): string {
  const paragraphs = source.split(/\n{2,}/);
  for (let i = paragraphs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [paragraphs[i], paragraphs[j]] = [paragraphs[j], paragraphs[i]];
  }
  const body = paragraphs
    .join('\n\n')
    .replace(/\d+/g, (digits) => String(Math.floor(random() * 10 ** Math.min(digits.length, 6))));
  return `## Part ${copy + 1}\n\n${body.trim()}\n\n`;
}

/** Prompt text with at least `minChars` UTF-16 units (the same text for the same arguments). */
export function promptText(root: string, minChars: number, seed = 1): string {
  const sources = promptSources(root);
  const random = seededRandom(seed);
  const parts: string[] = [];
  let length = 0;
  for (let copy = 0; length < minChars; copy++) {
    const part = variedCopy(sources[copy % sources.length], copy, random);
    parts.push(part);
    length += part.length;
  }
  return parts.join('');
}

/** Exactly `bytes` bytes of UTF-8 prompt text (never cutting a character; may fall short by up to 3 bytes). */
export function promptCorpus(root: string, bytes: number, seed = 1): string {
  let text = promptText(root, bytes, seed);
  let size = Buffer.byteLength(text, 'utf8');
  // Trim from the end: first by whole chunks (cheap), then character by character.
  while (size > bytes) {
    const over = size - bytes;
    const cut = over > 64 ? Math.floor(over / 4) : 1;
    let end = text.length - cut;
    const code = text.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end--;
    text = text.slice(0, end);
    size = Buffer.byteLength(text, 'utf8');
  }
  return text;
}
