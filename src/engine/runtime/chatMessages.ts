// The chat an "Inspect as Chat" run renders, from the one section model (src/shared/promptSections.ts): a
// prompt whose top level is a transcript (.prompty role lines after the front matter, `system:` / `user:`
// blocks, `## System` / `## User` headings, ChatML or Llama 3 headers) splits into its messages; any other
// prompt is the system message, whole, with its example turns (`User:` lines under `# Examples`) inside it.
// Each message keeps the offset of its content in the selection, so the tokens of the rendered chat map back
// to the editor. A user message from the setting is added when the prompt names none; it has no offset (its
// text is not in the selection).
import { childrenOf, splitPromptSections, type PromptSection } from '../../shared/promptSections';

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
  /** Offset of `content` in the selection, or null for text from elsewhere (the setting). */
  readonly start: number | null;
}

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

/** The chat role of a section's role word ("human" is the user, "developer" the system, …). */
function chatRole(label: string): ChatRole {
  const word = label.split(/\s/)[0];
  if (/^(?:assistant|ai|bot)$/.test(word)) return 'assistant';
  if (/^(?:system|developer)$/.test(word)) return 'system';
  return 'user';
}

/** The messages of `text` (the selection); `userMessage` (the setting) is added when the text has no user turn. */
export function chatMessages(text: string, userMessage = ''): ChatMessage[] {
  const from = frontMatterEnd(text);
  const top = childrenOf(splitPromptSections(text), null).filter((s) => s.kind !== 'frontmatter');
  const roles = top.filter((s) => s.kind === 'role');
  const messages: ChatMessage[] = [];
  if (roles.length === 0) {
    const whole = message(text, 'system', from, text.length);
    if (whole) messages.push(whole);
  } else {
    // Text before the first turn is the system message.
    const before = message(text, 'system', from, roles[0].start);
    if (before) messages.push(before);
    roles.forEach((r, i) => {
      // Text after a turn that is not itself a turn (a heading ends a `User: …` turn) stays in that message.
      const next = i + 1 < roles.length ? roles[i + 1].start : text.length;
      const trailing = top.filter((s: PromptSection) => s.kind !== 'role' && s.start >= r.end && s.end <= next);
      const end = trailing.length ? trailing[trailing.length - 1].end : (r.bodyEnd ?? r.end);
      const part = message(text, chatRole(r.label), r.bodyStart ?? r.start, end);
      if (part) messages.push(part);
    });
  }
  const extra = userMessage.trim();
  if (extra && !messages.some((m) => m.role === 'user')) messages.push({ role: 'user', content: extra, start: null });
  return messages;
}
