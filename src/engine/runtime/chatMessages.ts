// The chat an "Inspect as Chat" run renders: the selection is the system message, unless the prompt has
// its own structure (.prompty role lines after the front matter, `system:` / `user:` blocks, `## System` /
// `## User` headings), which splits it into messages. Each message keeps the offset of its content in the
// selection, so the tokens of the rendered chat map back to the editor. A user message from the setting
// is added when the prompt names none; it has no offset (its text is not in the selection).

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
  /** Offset of `content` in the selection, or null for text from elsewhere (the setting). */
  readonly start: number | null;
}

// A role line: "system:", "User:", "## System", "# user" (heading), optionally with text after "role:".
const ROLE_LINE =
  /^(?:#{1,6}[ \t]+(system|user|assistant)[ \t]*:?[ \t]*|(system|user|assistant)[ \t]*:[ \t]*(.*?))[ \t]*$/i;

/** Offset where a YAML front matter (--- … ---) ends, or 0 when the text has none. */
export function frontMatterEnd(text: string): number {
  const open = /^---[ \t]*\r?\n/.exec(text);
  if (!open) return 0;
  const close = /^---[ \t]*(?:\r?\n|$)/m;
  const rest = text.slice(open[0].length);
  const match = close.exec(rest);
  return match ? open[0].length + match.index + match[0].length : 0;
}

/** The part of [start, end) of `text` without surrounding whitespace, as a message (null when blank). */
function message(text: string, role: ChatRole, start: number, end: number): ChatMessage | null {
  const raw = text.slice(start, end);
  const lead = raw.length - raw.trimStart().length;
  const content = raw.trim();
  return content ? { role, content, start: start + lead } : null;
}

/** The messages of `text` (the selection); `userMessage` (the setting) is added when the text has no user turn. */
export function chatMessages(text: string, userMessage = ''): ChatMessage[] {
  const from = frontMatterEnd(text);
  const markers: { role: ChatRole; lineStart: number; contentStart: number }[] = [];
  const linePattern = /[^\n]*(?:\n|$)/g;
  linePattern.lastIndex = from;
  for (let match = linePattern.exec(text); match && match[0] !== ''; match = linePattern.exec(text)) {
    const line = match[0].replace(/\r?\n$/, '');
    const role = ROLE_LINE.exec(line);
    if (!role) continue;
    const name = (role[1] ?? role[2]).toLowerCase() as ChatRole;
    // Inline text after "user:" starts the content on the same line.
    const inline =
      role[3] !== undefined && role[3] !== ''
        ? match.index + line.indexOf(role[3], (role[2] as string).length)
        : match.index + match[0].length;
    markers.push({ role: name, lineStart: match.index, contentStart: inline });
  }
  const messages: ChatMessage[] = [];
  if (markers.length === 0) {
    const whole = message(text, 'system', from, text.length);
    if (whole) messages.push(whole);
  } else {
    // Text before the first role line is the system message.
    const before = message(text, 'system', from, markers[0].lineStart);
    if (before) messages.push(before);
    markers.forEach((m, i) => {
      const part = message(
        text,
        m.role,
        m.contentStart,
        i + 1 < markers.length ? markers[i + 1].lineStart : text.length,
      );
      if (part) messages.push(part);
    });
  }
  const extra = userMessage.trim();
  if (extra && !messages.some((m) => m.role === 'user')) messages.push({ role: 'user', content: extra, start: null });
  return messages;
}
