// What a later load of a built model needs from its source file, kept in the cache entry as source.json so
// that a GGUF file found in the cache is not parsed again (about 0.5 s and ~100 MB of heap for a 150k-token
// vocabulary, bench): the hyperparameters, the quantization label, the file's size and format, and the
// tokenizer spec built from its metadata (ggufTokenizer.ts). It is written only for a file that passed every
// check (ggufFile.ts) and built, inside the entry's temporary folder or by a rename, never half-written; one
// that does not read back (another version, damaged) is written again from a fresh parse.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { GgufFile } from './ggufFile';
import type { GgufTokenizerSpec } from './ggufTokenizer';
import { GGUF_TOKENIZER_VERSION } from './ggufTokenizer';

/** Bump when ggufFile.ts reads other hyperparameters or labels from the same file. */
const SOURCE_VERSION = `source-v1/${GGUF_TOKENIZER_VERSION}`;
const SOURCE_FILE = 'source.json';

/** The parts of a read model (GgufFile) that the loaded model keeps. */
export type BuiltSource = Pick<GgufFile, 'path' | 'size' | 'hyper' | 'quant' | 'format'>;

export interface SourceRecord {
  readonly source: BuiltSource;
  /** The tokenizer built from the GGUF metadata; null for a checkpoint (its own tokenizer.json). */
  readonly tokenizer: GgufTokenizerSpec | null;
}

interface StoredRecord extends SourceRecord {
  readonly version: string;
}

/** The record in entry `dir`, or null when there is none that this version wrote for `file`. */
export async function readBuiltSource(dir: string, file: string): Promise<SourceRecord | null> {
  let stored: StoredRecord;
  try {
    stored = JSON.parse(await fs.readFile(path.join(dir, SOURCE_FILE), 'utf8')) as StoredRecord;
  } catch {
    return null; // none yet (an entry built before source.json), or torn: written again from a fresh parse
  }
  if (stored?.version !== SOURCE_VERSION || stored.source?.path !== file || !stored.source.hyper) return null;
  return { source: stored.source, tokenizer: stored.tokenizer ?? null };
}

/** Writes the record into entry `dir` through a temporary name. */
export async function writeBuiltSource(
  dir: string,
  file: GgufFile,
  tokenizer: GgufTokenizerSpec | null,
): Promise<void> {
  const { path: source, size, hyper, quant, format } = file;
  const stored: StoredRecord = {
    version: SOURCE_VERSION,
    source: { path: source, size, hyper, quant, ...(format ? { format } : {}) },
    tokenizer,
  };
  const temp = path.join(dir, `${SOURCE_FILE}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.writeFile(temp, JSON.stringify(stored));
    await fs.rename(temp, path.join(dir, SOURCE_FILE));
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
