// The model's chat template and an inspection through it. The template comes from chat_template.jinja,
// chat_template.json or tokenizer_config.json's `chat_template` (in that order, as transformers reads them)
// and is rendered with @huggingface/jinja, as transformers.js does, with add_generation_prompt so the
// inspection ends where the model's answer would start.
//
// Mapping back: the chat is rendered once with each message's content replaced by a marker. Between markers
// the template's own text is the same as in the real render, so each content's place in the real render
// follows from the markers' places and the lengths of the contents before it; a marker that lost its
// surrounding newlines shows the template trims. Tokens inside a content get its role and a span in the
// selection; the others are template tokens with no span there.
import { Template } from '@huggingface/jinja';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { TokenInfo } from '../../shared/protocol';
import { firstLine } from '../../shared/errorText';
import { EngineError } from '../engineError';
import type { ChatMessage, ChatRole } from './chatMessages';
import { chatMessages } from './chatMessages';

export interface ChatTemplateSource {
  readonly template: string;
  /** The file it came from, for messages. */
  readonly file: string;
  /** bos_token, eos_token, … from tokenizer_config.json, as the template expects them. */
  readonly specialTokens: Readonly<Record<string, string>>;
}

type NamedTemplates = readonly { readonly name?: unknown; readonly template?: unknown }[];

function pickTemplate(value: unknown): string | null {
  if (typeof value === 'string' && value.trim()) return value;
  if (Array.isArray(value)) {
    const list = value as NamedTemplates;
    const found = list.find((t) => t.name === 'default') ?? list[0];
    return typeof found?.template === 'string' ? found.template : null;
  }
  return null;
}

function tokenString(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string')
    return (value as { content: string }).content;
  return null;
}

async function readText(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return null;
  }
}

/** The folder's chat template, or null when the model has none. */
export async function readChatTemplate(
  folder: string,
  tokenizerConfig: Readonly<Record<string, unknown>>,
): Promise<ChatTemplateSource | null> {
  const specialTokens: Record<string, string> = {};
  for (const [key, value] of Object.entries(tokenizerConfig)) {
    const text = key.endsWith('_token') ? tokenString(value) : null;
    if (text !== null) specialTokens[key] = text;
  }
  const jinja = await readText(path.join(folder, 'chat_template.jinja'));
  if (jinja?.trim()) return { template: jinja, file: 'chat_template.jinja', specialTokens };
  const json = await readText(path.join(folder, 'chat_template.json'));
  if (json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch {
      throw new EngineError(`Cannot read ${path.join(folder, 'chat_template.json')}: not JSON.`);
    }
    const template = pickTemplate((parsed as { chat_template?: unknown }).chat_template);
    if (template) return { template, file: 'chat_template.json', specialTokens };
  }
  const fromConfig = pickTemplate(tokenizerConfig.chat_template);
  return fromConfig ? { template: fromConfig, file: 'tokenizer_config.json', specialTokens } : null;
}

/** Renders `messages` with the template, add_generation_prompt on. */
export function renderChat(source: ChatTemplateSource, messages: readonly { role: string; content: string }[]): string {
  try {
    return new Template(source.template).render({ ...source.specialTokens, messages, add_generation_prompt: true });
  } catch (error) {
    throw new EngineError(`The model's chat template (${source.file}) failed: ${firstLine(error)}`);
  }
}

/** Where one message's content sits in the rendered chat. */
export interface RenderedSegment {
  readonly role: ChatRole;
  /** [start, end) in the rendered text. */
  readonly start: number;
  readonly end: number;
  /** Offset in the selection that `start` maps to, or null for content from elsewhere. */
  readonly source: number | null;
}

export interface RenderedChat {
  readonly text: string;
  readonly segments: readonly RenderedSegment[];
  /** Messages the template did not show (e.g. a system message with no user turn after it). */
  readonly dropped: readonly ChatMessage[];
}

const marker = (i: number): string => `\uE000${i}\uE001`;

/** Renders the chat and finds each message's content in it. */
export function renderWithSegments(source: ChatTemplateSource, messages: readonly ChatMessage[]): RenderedChat {
  const text = renderChat(source, messages);
  const probe = renderChat(
    source,
    messages.map((m, i) => ({ role: m.role, content: `\n${marker(i)}\n` })),
  );
  const segments: RenderedSegment[] = [];
  const dropped: ChatMessage[] = [];
  let shift = 0; // real length − marker length of the contents placed so far
  let cursor = 0;
  messages.forEach((m, i) => {
    const at = probe.indexOf(marker(i));
    if (at < 0) {
      dropped.push(m);
      return;
    }
    const keptLead = probe[at - 1] === '\n';
    const keptTrail = probe[at + marker(i).length] === '\n';
    const lead = keptLead ? 0 : m.content.length - m.content.trimStart().length;
    const shown = m.content.slice(lead, keptTrail ? m.content.length : m.content.trimEnd().length);
    const probeStart = at - (keptLead ? 1 : 0);
    let start = probeStart + shift;
    // Template text that depends on the content moves the message: find it again.
    if (text.slice(start, start + shown.length) !== shown) start = text.indexOf(shown, cursor);
    if (start < 0) {
      dropped.push(m);
      return;
    }
    segments.push({ role: m.role, start, end: start + shown.length, source: m.start === null ? null : m.start + lead });
    const probeLength = marker(i).length + (keptLead ? 1 : 0) + (keptTrail ? 1 : 0);
    shift = start + shown.length - (probeStart + probeLength);
    cursor = start + shown.length;
  });
  return { text, segments, dropped };
}

/**
 * The rendered chat's tokens (spans in the rendered text) as inspection tokens: inside a content with a
 * source, the part in the selection (text === selection.slice(start, end)) and the message's role; the
 * rest are template tokens (or the setting's user message), with an empty span where they fall.
 */
export function chatTokens(rendered: RenderedChat, tokens: readonly TokenInfo[], selection: string): TokenInfo[] {
  let lastEnd = 0;
  return tokens.map((t): TokenInfo => {
    const renderedText = rendered.text.slice(t.start, t.end) || t.text;
    const segment = rendered.segments.find((s) => t.start < s.end && t.end > s.start);
    const base = t.special ? { special: true as const } : {};
    if (!segment) return { id: t.id, text: renderedText, start: lastEnd, end: lastEnd, role: 'template', ...base };
    if (segment.source === null)
      return { id: t.id, text: renderedText, start: lastEnd, end: lastEnd, role: segment.role, ...base };
    const from = Math.max(t.start, segment.start) - segment.start + segment.source;
    const to = Math.min(t.end, segment.end) - segment.start + segment.source;
    const start = Math.max(lastEnd, from);
    const end = Math.max(start, to);
    lastEnd = end;
    return { id: t.id, text: selection.slice(start, end), start, end, role: segment.role, ...base };
  });
}

/** What tokenizeAsChat needs of the model's tokenizer. */
export interface ChatTokenizer {
  readonly chatTemplate: ChatTemplateSource | null;
  tokenize(text: string, addSpecialTokens?: boolean): { ids: number[]; tokens: TokenInfo[] };
}

export interface ChatTokenized {
  readonly ids: number[];
  readonly tokens: TokenInfo[];
  /** One-line notes for the user (which template, what was left out). */
  readonly notes: string[];
}

/** The selection as a chat through the model's template; plain text (with a note) when the model has none. */
export function tokenizeAsChat(
  tokenizer: ChatTokenizer,
  text: string,
  userMessage: string,
  modelId: string,
): ChatTokenized {
  const source = tokenizer.chatTemplate;
  let messages = chatMessages(text, userMessage);
  if (!source || messages.length === 0) {
    const plain = tokenizer.tokenize(text);
    return {
      ...plain,
      notes: [
        source
          ? 'The selection holds no message; inspected the plain text.'
          : `${modelId} has no chat template; inspected the plain text.`,
      ],
    };
  }
  const notes: string[] = [];
  let rendered = renderWithSegments(source, messages);
  if (rendered.dropped.length > 0 && messages.every((m) => m.role === 'system')) {
    // Some templates (Gemma's) show the system message only inside the first user turn.
    messages = messages.map((m) => ({ ...m, role: 'user' }));
    rendered = renderWithSegments(source, messages);
    notes.push(
      `${modelId}'s chat template shows no system message without a user turn; inspected the selection as the user message.`,
    );
  }
  if (rendered.dropped.length > 0)
    notes.push(
      `${modelId}'s chat template left out ${rendered.dropped.map((m) => `the ${m.role} message`).join(' and ')}.`,
    );
  const tokenized = tokenizer.tokenize(rendered.text, false);
  const roles = messages.map((m) => `${m.role}${m.start === null ? ' (from the setting)' : ''}`).join(', ');
  notes.unshift(`Inspected as a chat (${roles}) through ${source.file}, with the generation prompt.`);
  return { ids: tokenized.ids, tokens: chatTokens(rendered, tokenized.tokens, text), notes };
}
