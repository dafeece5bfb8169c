// The block parser behind promptSections.ts: it proposes the candidate spans of one region of a prompt
// (headings with their bodies, example turns, `---` parts, tags, fenced code, jinja blocks, lists, paragraphs,
// few-shot examples) and the inline spans of the whole text (template variables, one-line tags). Nesting and
// the final tree are promptSections.ts's job. Pure, no DOM and no Node API: the webview bundles it.
import { MIN_MEMO_REGION, type SectionMemo } from './sectionMemo';

export type SectionKind =
  | 'frontmatter'
  | 'role'
  | 'heading'
  | 'part'
  | 'paragraph'
  | 'list'
  | 'list-item'
  | 'code'
  | 'tag'
  | 'example'
  | 'turn'
  | 'variable'
  | 'jinja';

export interface Candidate {
  readonly kind: SectionKind;
  readonly label: string;
  readonly start: number;
  readonly end: number;
  /** role and turn: where the message's own text starts and ends (after `User:`, before `<|im_end|>`). */
  readonly bodyStart?: number;
  readonly bodyEnd?: number;
}

export interface Line {
  readonly start: number;
  /** Offset of the newline (or the region's end). */
  readonly end: number;
  readonly text: string;
}

const LABEL_LENGTH = 40;
export const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$/;
export const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^([ \t]*)(?:[-*+]|\d{1,3}[.)])[ \t]+\S/;
const LIST_ITEM_MARKER = /^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+/;
const JINJA_OPEN = /^[ \t]*\{%-?\s*(if|for|block|macro|with|raw|filter|call)\b([^%]*?)-?%\}/;
const OPEN_TAG = /^[ \t]*<([A-Za-z][\w.:-]*)(?:\s[^<>]*)?>/;
/** A thematic break used as a separator: `---`, `***` or `___` alone on its line. */
const SEPARATOR = /^ {0,3}(?:-{3,}|\*{3,}|_{3,})[ \t]*$/;
const ROLE_WORDS = 'system|user|assistant|human|ai|bot|developer|tool';
/** `User: text` or a bare `system:` line; group 1 the role, group 2 the text after the colon. */
export const ROLE_LINE = new RegExp(`^[ \\t]*(${ROLE_WORDS})[ \\t]*:[ \\t]*(.*)$`, 'i');
export const ROLE_HEADING = new RegExp(`^(${ROLE_WORDS})(?:[ \\t]+(?:message|prompt|turn))?[ \\t]*:?$`, 'i');
const ASKING_ROLE = /^(?:user|human)$/i;
const EXAMPLE_TITLE = /^(?:example|shot|sample|demonstration)\b/i;
const EXAMPLE_TAG = /^(?:example|shot|demo|sample)$/i;
/** `{name}` (not `{{name}}`, `${name}` or `\\{name}`), tried at one position. */
const SINGLE_BRACE_VARIABLE = /(?<![{$\\])\{([A-Za-z_][\w]*)\}(?!\})/y;
const KEYED_LINE = /^[ \t]*([A-Z][\w -]{0,24}?)[ \t]*:(.*)$/i;

export function splitLines(text: string, from: number, to: number): Line[] {
  const result: Line[] = [];
  let start = from;
  while (start < to) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 || newline > to ? to : newline;
    result.push({ start, end, text: text.slice(start, text.charCodeAt(end - 1) === 13 ? end - 1 : end) });
    start = end + 1;
  }
  return result;
}

function isBlank(line: Line): boolean {
  return line.text.trim() === '';
}

/** Shrinks [start, end) past leading and trailing whitespace. */
function trimSpan(text: string, start: number, end: number): [number, number] {
  let s = start;
  let e = end;
  while (s < e && /\s/.test(text[s])) s++;
  while (e > s && /\s/.test(text[e - 1])) e--;
  return [s, e];
}

export function shortLabel(raw: string): string {
  // raw.replace(/\s+/g, ' ').trim(), cut to the label, without reading past it: `raw` is often a whole
  // section's text, and every keystroke sections the whole document (the cost CodeLens). Words are copied as
  // slices, not character by character (each += made a string: ~1.5 KB of garbage per label).
  let flat = '';
  let length = 0;
  let word = -1;
  let gap = false;
  let i = 0;
  for (; i < raw.length && length <= LABEL_LENGTH; i++) {
    if (isSpace(raw.charCodeAt(i))) {
      if (word !== -1) flat += raw.slice(word, i);
      word = -1;
      gap = length > 0;
      continue;
    }
    if (word === -1) {
      if (gap) {
        flat += ' ';
        length++;
      }
      gap = false;
      word = i;
    }
    length++;
  }
  if (word !== -1) flat += raw.slice(word, i);
  return length > LABEL_LENGTH ? `${flat.slice(0, LABEL_LENGTH - 1)}…` : flat;
}

/** What /\s/ matches (and trim() removes), by code unit: a regex test per character cost more than the label. */
export function isSpace(code: number): boolean {
  if (code < 128) return code === 32 || (code >= 9 && code <= 13);
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** Collects candidate spans, trimmed of surrounding whitespace; empty ones are dropped. */
export class Collector {
  readonly candidates: Candidate[] = [];
  /** Bumped where a region's parse read past the region's end (its result then depends on what follows). */
  readPastEnd = 0;
  constructor(
    readonly text: string,
    readonly memo?: SectionMemo,
  ) {}

  add(kind: SectionKind, label: string, start: number, end: number, body?: [number, number]): Candidate | null {
    const [s, e] = trimSpan(this.text, start, end);
    if (e <= s) return null;
    const candidate: Candidate = body
      ? { kind, label: shortLabel(label), start: s, end: e, bodyStart: body[0], bodyEnd: body[1] }
      : { kind, label: shortLabel(label), start: s, end: e };
    this.candidates.push(candidate);
    return candidate;
  }
}

/** The end (exclusive) of the fenced block opened at line i: the line index after the closing fence. */
function fenceEnd(lines: readonly Line[], i: number, marker: string): number {
  for (let j = i + 1; j < lines.length; j++) {
    const m = FENCE.exec(lines[j].text);
    if (m && m[1][0] === marker[0] && m[1].length >= marker.length && lines[j].text.trim() === m[1]) return j + 1;
  }
  return lines.length;
}

function startsBlock(line: Line): boolean {
  return (
    HEADING.test(line.text) ||
    FENCE.test(line.text) ||
    LIST_ITEM.test(line.text) ||
    JINJA_OPEN.test(line.text) ||
    ROLE_LINE.test(line.text) ||
    SEPARATOR.test(line.text)
  );
}

function indentOf(line: Line): number {
  return /^[ \t]*/.exec(line.text)?.[0].length ?? 0;
}

/** Paragraphs of `Key: value` lines whose key sequence repeats are few-shot examples; an open last value is the
 * query. */
function markExamples(out: Collector, paragraphs: readonly Candidate[]): void {
  const shapes = paragraphs.map((p) => {
    const lines = out.text.slice(p.start, p.end).split('\n');
    const keys = lines.map((l) => KEYED_LINE.exec(l));
    if (keys.length < 2 || keys.some((k) => !k)) return null;
    return {
      shape: keys.map((k) => (k as RegExpExecArray)[1].toLowerCase()).join('|'),
      open: ((keys[keys.length - 1] as RegExpExecArray)[2] ?? '').trim() === '',
    };
  });
  const counts = new Map<string, number>();
  for (const s of shapes) if (s) counts.set(s.shape, (counts.get(s.shape) ?? 0) + 1);
  let n = 0;
  paragraphs.forEach((p, i) => {
    const s = shapes[i];
    if (!s || (counts.get(s.shape) ?? 0) < 2 || s.open) return;
    const at = out.candidates.indexOf(p);
    out.candidates[at] = { ...p, kind: 'example', label: shortLabel(`example ${++n}: ${p.label}`) };
  });
}

/** Line indices (within `lines`) of `---` separators outside fenced code. */
function separators(lines: readonly Line[]): number[] {
  const found: number[] = [];
  let fence: string | null = null;
  lines.forEach((line, i) => {
    const f = FENCE.exec(line.text);
    if (f) fence = fence === null ? f[1][0] : fence === f[1][0] ? null : fence;
    else if (fence === null && SEPARATOR.test(line.text)) {
      // `text` directly above `---` is a setext heading underline, not a separator.
      if (i === 0 || isBlank(lines[i - 1]) || SEPARATOR.test(lines[i - 1].text)) found.push(i);
    }
  });
  return found;
}

/**
 * Block structure of [from, to): headings with their bodies, example turns, tags, code, lists, paragraphs.
 * `---` separators cut the region into parts when they leave two or more non-empty ones.
 */
export function parseRegion(out: Collector, from: number, to: number, depth: number): void {
  if (depth > 32 || to <= from) return;
  const memo = out.memo;
  if (!memo || to - from < MIN_MEMO_REGION) return parseRegionNow(out, from, to, depth);
  const key = out.text.slice(from, to);
  const known = memo.lookup(key, depth, from);
  if (known) {
    out.candidates.push(...known);
    return;
  }
  const first = out.candidates.length;
  const readPast = out.readPastEnd;
  memo.enter();
  parseRegionNow(out, from, to, depth);
  memo.leave(key, depth, from, out.readPastEnd === readPast ? out.candidates.slice(first) : null);
}

function parseRegionNow(out: Collector, from: number, to: number, depth: number): void {
  const lines = splitLines(out.text, from, to);
  const cuts = separators(lines);
  if (cuts.length > 0) {
    const bounds = [-1, ...cuts, lines.length];
    const parts: [number, number][] = [];
    for (let k = 0; k + 1 < bounds.length; k++) {
      const first = bounds[k] + 1;
      const last = bounds[k + 1] - 1;
      if (first <= last && lines.slice(first, last + 1).some((l) => !isBlank(l)))
        parts.push([lines[first].start, lines[last].end]);
    }
    if (parts.length >= 2) {
      for (const [s, e] of parts) {
        const firstLine = splitLines(out.text, s, e).find((l) => !isBlank(l));
        out.add('part', firstLine ? firstLine.text.replace(/^#+\s*/, '') : 'part', s, e);
        parseBlocks(out, splitLines(out.text, s, e), e, depth + 1);
      }
      return;
    }
  }
  parseBlocks(out, lines, to, depth);
}

function parseBlocks(out: Collector, lines: readonly Line[], to: number, depth: number): void {
  const text = out.text;
  const paragraphs: Candidate[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line) || SEPARATOR.test(line.text)) {
      i++;
      continue;
    }
    const fence = FENCE.exec(line.text);
    if (fence) {
      const after = fenceEnd(lines, i, fence[1]);
      const info = line.text.trim().slice(fence[1].length).trim();
      out.add('code', info ? `code (${info})` : 'code', line.start, lines[after - 1].end);
      i = after;
      continue;
    }
    const heading = HEADING.exec(line.text);
    if (heading) {
      const level = heading[1].length;
      let j = i + 1;
      let inFence: string | null = null;
      for (; j < lines.length; j++) {
        const f = FENCE.exec(lines[j].text);
        if (f) inFence = inFence === null ? f[1] : inFence[0] === f[1][0] ? null : inFence;
        else if (inFence === null) {
          const h = HEADING.exec(lines[j].text);
          if (h && h[1].length <= level) break;
        }
      }
      const end = j < lines.length ? lines[j].start : to;
      const title = heading[2].trim();
      const kind: SectionKind = ROLE_HEADING.test(title) ? 'role' : EXAMPLE_TITLE.test(title) ? 'example' : 'heading';
      const bodyStart = Math.min(line.end + 1, end);
      out.add(
        kind,
        kind === 'role' ? title.replace(/[ \t]*:$/, '').toLowerCase() : title.replace(/[ \t]*:$/, '') || '(heading)',
        line.start,
        end,
        kind === 'role' ? [bodyStart, end] : undefined,
      );
      parseRegion(out, bodyStart, end, depth + 1);
      i = j;
      continue;
    }
    if (ROLE_LINE.test(line.text)) {
      i = parseTurns(out, lines, i, to, depth);
      continue;
    }
    const jinja = JINJA_OPEN.exec(line.text);
    if (jinja) {
      const after = jinjaEnd(text, line.start + jinja[0].length, to, jinja[1]);
      // Found and ending inside the region, the block depends on the region's text alone; otherwise on what follows.
      if (!after || after.end > to) out.readPastEnd++;
      if (after) {
        out.add('jinja', `{% ${jinja[1]}${jinja[2].trimEnd()} %}`, line.start, after.end);
        parseRegion(out, line.start + jinja[0].length, after.start, depth + 1);
        while (i < lines.length && lines[i].end < after.end) i++;
        i++;
        continue;
      }
    }
    const tag = OPEN_TAG.exec(line.text);
    if (tag && !line.text.trimEnd().endsWith('/>')) {
      const name = tag[1];
      const openEnd = line.start + tag[0].length;
      const close = text.indexOf(`</${name}>`, openEnd);
      if (close < 0 || close >= to || close + name.length + 3 > to) out.readPastEnd++;
      if (close >= 0 && close < to) {
        const closeEnd = close + name.length + 3;
        out.add(EXAMPLE_TAG.test(name) ? 'example' : 'tag', `<${name}>`, line.start, closeEnd);
        // A one-line tag is its own text; a longer one has blocks of its own.
        if (text.slice(openEnd, close).includes('\n')) parseRegion(out, openEnd, close, depth + 1);
        while (i < lines.length && lines[i].end < closeEnd) i++;
        i++;
        continue;
      }
    }
    if (LIST_ITEM.test(line.text)) {
      i = parseList(out, lines, i);
      continue;
    }
    let j = i + 1;
    while (j < lines.length && !isBlank(lines[j]) && !startsBlock(lines[j]) && !OPEN_TAG.test(lines[j].text)) j++;
    const added = out.add('paragraph', line.text, line.start, lines[j - 1].end);
    if (added) paragraphs.push(added);
    i = j;
  }
  markExamples(out, paragraphs);
}

/**
 * Chat-role lines inside a section (`User: …` / `Assistant: …`): example turns, not messages. A turn runs to
 * the next role line or heading (a heading always ends a turn); a run of turns is grouped into examples, a new
 * one at each user turn, when a group holds an answer. Returns the index of the first line after the run.
 */
function parseTurns(out: Collector, lines: readonly Line[], first: number, to: number, depth: number): number {
  const turns: { role: string; start: number; end: number; open: boolean }[] = [];
  let i = first;
  while (i < lines.length) {
    const role = ROLE_LINE.exec(lines[i].text);
    if (!role) break;
    let j = i + 1;
    let fence: string | null = null;
    for (; j < lines.length; j++) {
      const f = FENCE.exec(lines[j].text);
      if (f) fence = fence === null ? f[1][0] : fence === f[1][0] ? null : fence;
      else if (fence === null && (ROLE_LINE.test(lines[j].text) || HEADING.test(lines[j].text))) break;
    }
    const line = lines[i];
    const inline = role[2].trim() !== '';
    const bodyStart = inline ? line.start + line.text.indexOf(':') + 1 : Math.min(line.end + 1, to);
    const end = lines[j - 1].end;
    const firstText = inline ? role[2] : (lines.slice(i + 1, j).find((l) => !isBlank(l))?.text ?? '');
    const name = role[1].toLowerCase();
    const turn = out.add('turn', `${name}: ${firstText.trim()}`, line.start, end, [bodyStart, end]);
    const open = !inline && !lines.slice(i + 1, j).some((l) => !isBlank(l));
    if (turn) turns.push({ role: name, start: turn.start, end: turn.end, open });
    // A one-line turn is its own text; a longer one has blocks of its own.
    if (lines.slice(i + 1, j).some((l) => !isBlank(l))) parseRegion(out, bodyStart, end, depth + 1);
    i = j;
    if (i < lines.length && !ROLE_LINE.test(lines[i].text)) break;
  }
  const groups: (typeof turns)[] = [];
  for (const turn of turns) {
    const current = groups[groups.length - 1];
    if (!current || (ASKING_ROLE.test(turn.role) && current.some((t) => !ASKING_ROLE.test(t.role)))) groups.push([]);
    groups[groups.length - 1].push(turn);
  }
  let n = 0;
  for (const group of groups) {
    // An example holds an answer; a group that ends in an open turn (`AI:` with no text) is the query.
    const last = group[group.length - 1];
    if (group.length < 2 || !group.some((t) => !ASKING_ROLE.test(t.role)) || last.open) continue;
    const asked = out.text.slice(group[0].start, group[0].end).replace(ROLE_LINE, '$2');
    out.add('example', `example ${++n}: ${asked}`, group[0].start, group[group.length - 1].end);
  }
  return i;
}

/** The `{% end<word> %}` that closes a jinja block opened before `from`, nesting counted. */
function jinjaEnd(text: string, from: number, to: number, word: string): { start: number; end: number } | null {
  const pattern = new RegExp(`\\{%-?\\s*(end)?${word}\\b[^%]*?-?%\\}`, 'g');
  pattern.lastIndex = from;
  let open = 1;
  for (let m = pattern.exec(text); m && m.index < to; m = pattern.exec(text)) {
    open += m[1] ? -1 : 1;
    if (open === 0) return { start: m.index, end: m.index + m[0].length };
  }
  return null;
}

/** A list starting at line i; returns the index of the first line after it. */
function parseList(out: Collector, lines: readonly Line[], first: number): number {
  const baseIndent = indentOf(lines[first]);
  const items: { line: number; indent: number }[] = [];
  let i = first;
  let last = first;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) {
      // A blank line ends the list unless an item (or an indented continuation) follows.
      const next = lines[i + 1];
      if (!next || !(LIST_ITEM.test(next.text) || indentOf(next) > baseIndent)) break;
      i++;
      continue;
    }
    if (LIST_ITEM.test(line.text)) {
      if (indentOf(line) < baseIndent) break;
      items.push({ line: i, indent: indentOf(line) });
    } else if (
      i > first &&
      (HEADING.test(line.text) ||
        FENCE.test(line.text) ||
        SEPARATOR.test(line.text) ||
        (ROLE_LINE.test(line.text) && indentOf(line) <= baseIndent) ||
        (OPEN_TAG.test(line.text) && indentOf(line) <= baseIndent))
    )
      break;
    last = i;
    i++;
  }
  const text = out.text;
  items.forEach((it, k) => {
    let endLine = last;
    for (let m = k + 1; m < items.length; m++) {
      if (items[m].indent <= it.indent) {
        endLine = items[m].line - 1;
        break;
      }
    }
    const body = text.slice(lines[it.line].start, lines[it.line].end).replace(LIST_ITEM_MARKER, '');
    out.add('list-item', body, lines[it.line].start, lines[endLine].end);
  });
  const topLevel = items.filter((it) => it.indent === baseIndent).length;
  if (topLevel >= 2)
    out.add(
      'list',
      `list of ${topLevel}: ${text.slice(lines[first].start, lines[first].end).replace(LIST_ITEM_MARKER, '')}`,
      lines[first].start,
      lines[last].end,
    );
  return last + 1;
}

/** Inline spans: template variables, jinja blocks, one-line tags; code spans excluded. */
export function parseInline(out: Collector, code: readonly Candidate[]): void {
  const text = out.text;
  const inCode = (at: number): boolean => code.some((c) => at >= c.start && at < c.end);
  // Each pattern runs only where the text holds its opening characters: a scan for a substring costs a fraction
  // of a pattern's search over a long prompt (the sections run on every keystroke).
  const braces = text.includes('{');
  if (braces && text.includes('{{')) {
    for (const m of text.matchAll(/\{\{-?\s*([A-Za-z_][\w.]*)[^{}]*?-?\}\}/g)) {
      if (!inCode(m.index)) out.add('variable', `{{${m[1]}}}`, m.index, m.index + m[0].length);
    }
  }
  // Every match starts at a "{": the sticky pattern is tried there only (a search with a lookbehind first tries
  // every position of the text).
  for (let at = text.indexOf('{'); at !== -1;) {
    SINGLE_BRACE_VARIABLE.lastIndex = at;
    const m = SINGLE_BRACE_VARIABLE.exec(text);
    if (m && !inCode(at)) out.add('variable', `{${m[1]}}`, at, at + m[0].length);
    at = text.indexOf('{', m ? at + m[0].length : at + 1);
  }
  if (braces && text.includes('{%')) {
    const stack: { name: string; start: number; head: string }[] = [];
    for (const m of text.matchAll(/\{%-?\s*(\w+)([^%]*?)-?%\}/g)) {
      if (inCode(m.index)) continue;
      const word = m[1];
      if (/^(if|for|block|macro|with|raw|filter|call)$/.test(word))
        stack.push({ name: word, start: m.index, head: `{% ${word}${m[2].trimEnd()} %}` });
      else if (word.startsWith('end')) {
        const k = stack.map((s) => s.name).lastIndexOf(word.slice(3));
        if (k >= 0) {
          const open = stack[k];
          stack.length = k;
          out.add('jinja', open.head, open.start, m.index + m[0].length);
        }
      }
    }
  }
  if (!text.includes('</')) return;
  for (const m of text.matchAll(/<([A-Za-z][\w.:-]*)(?:\s[^<>\n]*)?>[^\n]*?<\/\1>/g)) {
    if (!inCode(m.index))
      out.add(EXAMPLE_TAG.test(m[1]) ? 'example' : 'tag', `<${m[1]}>`, m.index, m.index + m[0].length);
  }
}
