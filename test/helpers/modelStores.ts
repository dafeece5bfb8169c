// Temporary model stores under a fake HOME, laid out as Ollama, LM Studio, llama.cpp and the Hugging Face
// cache lay them out, holding small GGUF files (header, metadata and two tiny tensors) from the test writer.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TypedValue } from './ggufWriter';
import { str, u32, writeGguf } from './ggufWriter';

/** A small GGUF: `architecture`, its context length and file type, and a 2-D tensor of `tensorType`. */
export function smallGguf(architecture: string, context: number, fileType?: number, tensorType = 0): Uint8Array {
  const metadata: Record<string, TypedValue> = {
    'general.architecture': str(architecture),
    [`${architecture}.context_length`]: u32(context),
    ...(fileType === undefined ? {} : { 'general.file_type': u32(fileType) }),
  };
  const bytes = tensorType === 8 ? 34 * 2 : 4 * 64; // two Q8_0 blocks of 32, or 64 floats
  return writeGguf(metadata, [
    { name: 'token_embd.weight', dims: [32, 2], type: tensorType, bytes: new Uint8Array(bytes) },
    { name: 'output_norm.weight', dims: [32], type: 0, bytes: new Uint8Array(4 * 32) },
  ]);
}

function write(file: string, bytes: Uint8Array | string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, bytes);
  return file;
}

/** Puts `gguf` into the Ollama store at `root` as `<name>:<tag>` (library namespace unless name has one). */
export function addOllamaModel(root: string, name: string, tag: string, gguf: Uint8Array): string {
  const hex = createHash('sha256').update(gguf).digest('hex');
  const blob = write(path.join(root, 'blobs', `sha256-${hex}`), gguf);
  const parts = name.includes('/') ? name.split('/') : ['library', name];
  const manifest = {
    schemaVersion: 2,
    layers: [
      { mediaType: 'application/vnd.ollama.image.template', digest: `sha256:${'0'.repeat(64)}`, size: 10 },
      { mediaType: 'application/vnd.ollama.image.model', digest: `sha256:${hex}`, size: gguf.length },
    ],
  };
  write(path.join(root, 'manifests', 'registry.ollama.ai', ...parts, tag), JSON.stringify(manifest));
  return blob;
}

export function addFile(file: string, bytes: Uint8Array | string): string {
  return write(file, bytes);
}

/** A Hugging Face cache repo `models--org--name` with one snapshot (refs/main) holding `files`. */
export function addHfSnapshot(hub: string, id: string, files: Record<string, Uint8Array | string>): string {
  const repo = path.join(hub, `models--${id.replace('/', '--')}`);
  const revision = 'a'.repeat(40);
  const snapshot = path.join(repo, 'snapshots', revision);
  write(path.join(repo, 'refs', 'main'), revision);
  for (const [name, bytes] of Object.entries(files)) {
    // Snapshots hold links into blobs/, as huggingface_hub writes them.
    const blob = write(path.join(repo, 'blobs', createHash('sha256').update(name).digest('hex')), bytes);
    fs.mkdirSync(path.dirname(path.join(snapshot, name)), { recursive: true });
    fs.symlinkSync(blob, path.join(snapshot, name));
  }
  return snapshot;
}
