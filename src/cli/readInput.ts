// The bytes of a CLI input: a file, or "-" for standard input; an unreadable file is one line.
import * as fs from 'node:fs/promises';
import { EngineError } from '../engine/inspectApi';

export async function readInputBytes(file: string, stdin: AsyncIterable<Buffer | string>): Promise<Buffer> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks);
  }
  try {
    return await fs.readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new EngineError(
      `Cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (error as Error).message}`,
    );
  }
}
