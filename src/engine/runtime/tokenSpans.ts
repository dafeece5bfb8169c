// Character spans for tokens. Neither transformers.js nor @huggingface/tokenizers returns offsets, so
// each token is mapped back to its bytes (byte-level BPE via the GPT-2 byte decoder, SentencePiece via
// ▁ and <0xNN>), the byte stream is aligned with the UTF-8 bytes of the input, and byte offsets are
// converted to UTF-16 offsets. A token that ends inside a multi-byte character gets the whole
// character; the next token (the rest of the character) then gets an empty span after it.

export type TokenTextKind = 'byte-level' | 'metaspace' | 'wordpiece' | 'plain';

export interface Span {
  readonly start: number;
  readonly end: number;
}

let byteDecoder: Map<string, number> | null = null;

/** GPT-2's bytes_to_unicode, inverted: printable stand-in character → byte. */
export function gpt2ByteDecoder(): Map<string, number> {
  if (byteDecoder) return byteDecoder;
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Map<string, number>();
  const isPrintable = new Set(printable);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const code = isPrintable.has(b) ? b : 256 + extra++;
    map.set(String.fromCodePoint(code), b);
  }
  byteDecoder = map;
  return map;
}

const encoder = new TextEncoder();
const BYTE_FALLBACK = /^<0x([0-9A-Fa-f]{2})>$/;

/** The bytes a token stands for in the input, or null when the token string cannot be mapped. */
export function tokenBytes(token: string, kind: TokenTextKind): Uint8Array | null {
  if (kind === 'byte-level') {
    const decoder = gpt2ByteDecoder();
    const bytes = new Uint8Array(token.length);
    let length = 0;
    for (const ch of token) {
      const b = decoder.get(ch);
      if (b === undefined) return encoder.encode(token); // an added (non-special) token stored verbatim
      bytes[length++] = b;
    }
    return bytes.subarray(0, length);
  }
  if (kind === 'metaspace') {
    const fallback = BYTE_FALLBACK.exec(token);
    if (fallback) return Uint8Array.of(parseInt(fallback[1], 16));
    return encoder.encode(token.replace(/\u2581/g, ' '));
  }
  if (kind === 'wordpiece') return encoder.encode(token.startsWith('##') ? token.slice(2) : token);
  return encoder.encode(token);
}

/** For each UTF-8 byte offset of `text` (0..byteLength), the UTF-16 offset of the character it starts or sits in. */
function utf8ToUtf16Starts(text: string): { bytes: Uint8Array; charStart: Uint32Array; charEnd: Uint32Array } {
  const bytes = encoder.encode(text);
  const charStart = new Uint32Array(bytes.length + 1);
  const charEnd = new Uint32Array(bytes.length + 1);
  let b = 0;
  let u = 0;
  while (u < text.length) {
    const cp = text.codePointAt(u) as number;
    const units = cp > 0xffff ? 2 : 1;
    // Lone surrogates encode as U+FFFD (3 bytes), like TextEncoder does.
    const width = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (let i = 0; i < width; i++) {
      charStart[b + i] = u;
      charEnd[b + i] = u + units;
    }
    b += width;
    u += units;
  }
  charStart[bytes.length] = u;
  charEnd[bytes.length] = u;
  return { bytes, charStart, charEnd };
}

/**
 * Spans for `tokens` in `text`. `special[i]` marks tokens the tokenizer added (BOS): empty span at the
 * current position. Spans are in order, never overlap, and together cover the text.
 */
export function tokenSpans(
  text: string,
  tokens: readonly string[],
  special: readonly boolean[],
  kind: TokenTextKind,
): Span[] {
  const { bytes, charStart, charEnd } = utf8ToUtf16Starts(text);
  const spans: Span[] = [];
  let cursor = 0; // byte offset in text
  let lastEnd = 0; // UTF-16 end of the previous span
  let aligned = true;
  for (let t = 0; t < tokens.length; t++) {
    if (!aligned) {
      spans.push({ start: lastEnd, end: lastEnd });
      continue;
    }
    // A special token is the tokenizer's own (BOS: empty span) unless the text spells it out here
    // (e.g. a chat template's <|im_start|> pasted into the prompt).
    const tb = special[t] ? encoder.encode(tokens[t]) : tokenBytes(tokens[t], kind);
    if (special[t] && (!tb || tb.length === 0 || !startsWithAt(bytes, tb, cursor))) {
      spans.push({ start: lastEnd, end: lastEnd });
      continue;
    }
    if (!tb) {
      spans.push({ start: lastEnd, end: lastEnd });
      continue;
    }
    const startByte = cursor;
    for (let i = 0; i < tb.length; i++) {
      if (cursor < bytes.length && bytes[cursor] === tb[i]) cursor++;
      else if (tb[i] === 0x20)
        continue; // a space the tokenizer prepended (Metaspace, add_prefix_space)
      else {
        aligned = false;
        break;
      }
    }
    if (!aligned) {
      spans.push({ start: lastEnd, end: lastEnd });
      continue;
    }
    const start = Math.max(lastEnd, charStart[startByte]);
    const end =
      cursor > startByte
        ? Math.max(start, cursor === bytes.length ? charStart[cursor] : charStartOrEnd(cursor, charStart, charEnd))
        : start;
    spans.push({ start, end });
    lastEnd = end;
  }
  if (!aligned) return fallbackSpans(text, tokens, special, kind);
  // Trailing bytes the tokenizer dropped (e.g. stripped whitespace) join the last non-special token.
  if (lastEnd < text.length) {
    for (let t = spans.length - 1; t >= 0; t--) {
      if (!special[t]) {
        spans[t] = { start: spans[t].start, end: text.length };
        break;
      }
    }
  }
  return spans;
}

function startsWithAt(bytes: Uint8Array, prefix: Uint8Array, at: number): boolean {
  if (at + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** End offset for a token whose last byte is at cursor-1: a mid-character end rounds up to the character's end. */
function charStartOrEnd(cursor: number, charStart: Uint32Array, charEnd: Uint32Array): number {
  // cursor is the first byte not consumed; if it sits inside a character, the character belongs to this token.
  const insideChar = charStart[cursor] === charStart[cursor - 1];
  return insideChar ? charEnd[cursor - 1] : charStart[cursor];
}

/** When the byte streams disagree (a normalizer changed the text), align decoded token text greedily. */
function fallbackSpans(
  text: string,
  tokens: readonly string[],
  special: readonly boolean[],
  kind: TokenTextKind,
): Span[] {
  const decoder = new TextDecoder();
  const spans: Span[] = [];
  let cursor = 0;
  for (let t = 0; t < tokens.length; t++) {
    const piece = special[t] ? '' : decoder.decode(tokenBytes(tokens[t], kind) ?? new Uint8Array()).trim();
    const found = piece ? text.toLowerCase().indexOf(piece.toLowerCase(), cursor) : -1;
    if (found >= 0 && found - cursor < 64) {
      spans.push({ start: cursor, end: found + piece.length });
      cursor = found + piece.length;
    } else {
      spans.push({ start: cursor, end: cursor });
    }
  }
  if (spans.length && cursor < text.length)
    spans[spans.length - 1] = { start: spans[spans.length - 1].start, end: text.length };
  return spans;
}
