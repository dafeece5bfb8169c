// Checks on the text before tokenization; each failure is one user-facing line.
import { EngineError } from '../engineError';

/** Share of control or replacement characters above which text is treated as binary. */
const BINARY_SHARE = 0.1;

export function validateText(text: string, maxCharacters: number): void {
  if (text.length === 0) throw new EngineError('Nothing to inspect: the text is empty.');
  if (text.trim().length === 0) throw new EngineError('Nothing to inspect: the text is only whitespace.');
  if (text.includes('\0'))
    throw new EngineError('The text looks like binary content (it contains NUL bytes); inspect a text file.');
  let odd = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Control characters other than tab, newline, form feed, carriage return; U+FFFD from invalid UTF-8.
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 12 && c !== 13) || c === 0x7f || c === 0xfffd) odd++;
  }
  if (odd > 8 && odd / text.length > BINARY_SHARE) {
    throw new EngineError(
      'The text looks like binary content (control characters or invalid UTF-8); inspect a text file.',
    );
  }
  if (maxCharacters > 0 && text.length > maxCharacters) {
    throw new EngineError(
      `The text has ${text.length} characters, more than the limit of ${maxCharacters}; select a shorter part.`,
    );
  }
}
