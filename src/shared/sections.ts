// The structure of a prompt: nested sections (chat roles, front matter, markdown headings and the blocks
// under them, paragraphs, lists and their items, fenced code, XML-style tags, few-shot examples, template
// variables and jinja blocks), each with its kind, a short label and its character span [start, end) in
// UTF-16 code units. Pure: text in, sections out. Detectors propose spans; one pass nests them by
// containment and drops any span that crosses another, so the result is always a proper tree.

export type SectionKind =
  | 'frontmatter'
  | 'role'
  | 'heading'
  | 'paragraph'
  | 'list'
  | 'list-item'
  | 'code'
  | 'tag'
  | 'example'
  | 'variable'
  | 'jinja';

export interface PromptSection {
  /** Position in document order (pre-order of the tree). */
  readonly index: number;
  readonly kind: SectionKind;
  readonly label: string;
  readonly start: number;
  readonly end: number;
  /** 0 for top-level sections. */
  readonly depth: number;
  /** Index of the enclosing section, null at the top. */
  readonly parent: number | null;
}

interface Candidate {
  readonly kind: SectionKind;
  readonly label: string;
  readonly start: number;
  readonly end: number;
}

interface Line {
  readonly start: number;
  /** Offset of the newline (or the text's end). */
  readonly end: number;
  readonly text: string;
}

const LABEL_LENGTH = 40;
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^([ \t]*)(?:[-*+]|\d{1,3}[.)])[ \t]+\S/;
const JINJA_OPEN = /^[ \t]*\{%-?\s*(if|for|block|macro|with|raw|filter|call)\b([^%]*?)-?%\}/;
const OPEN_TAG = /^[ \t]*<([A-Za-z][\w.:-]*)(?:\s[^<>]*)?>/;
const ROLE_WORDS = 'system|user|assistant|human|ai|bot|developer|tool';
const ROLE_LINE = new RegExp(`^[ \\t]*(${ROLE_WORDS})[ \\t]*:[ \\t]*(.*)$`, 'i');
const ROLE_HEADING = new RegExp(`^(${ROLE_WORDS})(?:[ \\t]+(?:message|prompt|turn))?$`, 'i');
const EXAMPLE_TITLE = /^(?:example|shot|sample|demonstration)\b/i;
const EXAMPLE_TAG = /^(?:example|shot|demo|sample)$/i;
const KEYED_LINE = /^[ \t]*([A-Z][\w -]{0,24}?)[ \t]*:(.*)$/i;
// Chat templates pasted as text: ChatML and Llama 3 headers.
const CHATML = /(<\|im_start\|>[ \t]*(\w+)[^\n]*\n?)[\s\S]*?(?:<\|im_end\|>|(?=<\|im_start\|>)|$)/g;
const LLAMA3 =
  /(<\|start_header_id\|>[ \t]*(\w+)[ \t]*<\|end_header_id\|>)[\s\S]*?(?:<\|eot_id\|>|(?=<\|start_header_id\|>)|$)/g;

function splitLines(text: string, from: number, to: number): Line[] {
  const result: Line[] = [];
  let start = from;
  while (start < to) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 || newline > to ? to : newline;
    result.push({ start, end, text: text.slice(start, end).replace(/\r$/, '') });
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

function shortLabel(raw: string): string {
  const flat = raw.replace(/\s+/g, ' ').trim();
  return flat.length > LABEL_LENGTH ? `${flat.slice(0, LABEL_LENGTH - 1)}…` : flat;
}

class Collector {
  readonly candidates: Candidate[] = [];
  constructor(readonly text: string) {}

  add(kind: SectionKind, label: string, start: number, end: number): void {
    const [s, e] = trimSpan(this.text, start, end);
    if (e > s) this.candidates.push({ kind, label: shortLabel(label), start: s, end: e });
  }
}

/** Role blocks at the top: chat-template headers, `system:` lines (prompty), `User: …` turns. */
function findRoles(
  text: string,
  from: number,
  to: number,
): { role: string; start: number; bodyStart: number; end: number }[] {
  const found: { role: string; start: number; bodyStart: number; end: number }[] = [];
  for (const pattern of [CHATML, LLAMA3]) {
    pattern.lastIndex = 0;
    const body = text.slice(from, to);
    for (let m = pattern.exec(body); m; m = pattern.exec(body)) {
      if (m[0].length === 0) {
        pattern.lastIndex++;
        continue;
      }
      const start = from + m.index;
      found.push({ role: m[2].toLowerCase(), start, bodyStart: start + m[1].length, end: start + m[0].length });
    }
    if (found.length) return found;
  }
  const lines = splitLines(text, from, to);
  let fence: string | null = null;
  const starts: { role: string; line: Line; inline: boolean }[] = [];
  for (const line of lines) {
    const f = FENCE.exec(line.text);
    if (f) fence = fence === null ? f[1][0] : fence === f[1][0] ? null : fence;
    if (fence !== null || f) continue;
    const m = ROLE_LINE.exec(line.text);
    if (m) starts.push({ role: m[1].toLowerCase(), line, inline: m[2].trim() !== '' });
  }
  // One `Note: …`-like line is not a conversation: roles need two turns, or a bare `system:` line.
  if (starts.length < 2 && !starts.some((s) => !s.inline)) return [];
  return starts.map((s, i) => ({
    role: s.role,
    start: s.line.start,
    bodyStart: s.inline ? s.line.start + s.line.text.indexOf(':') + 1 : Math.min(to, s.line.end + 1),
    end: i + 1 < starts.length ? starts[i + 1].line.start : to,
  }));
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
  return HEADING.test(line.text) || FENCE.test(line.text) || LIST_ITEM.test(line.text) || JINJA_OPEN.test(line.text);
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

/** Block structure of [from, to): headings with their bodies, tags, code, lists, paragraphs. */
function parseRegion(out: Collector, from: number, to: number, depth: number): void {
  if (depth > 32 || to <= from) return;
  const text = out.text;
  const lines = splitLines(text, from, to);
  const paragraphs: Candidate[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (isBlank(line)) {
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
      out.add(kind, kind === 'role' ? title.toLowerCase() : title || '(heading)', line.start, end);
      parseRegion(out, Math.min(line.end + 1, end), end, depth + 1);
      i = j;
      continue;
    }
    const jinja = JINJA_OPEN.exec(line.text);
    if (jinja) {
      const after = jinjaEnd(text, line.start + jinja[0].length, to, jinja[1]);
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
      if (close >= 0 && close < to) {
        const closeEnd = close + name.length + 3;
        out.add(EXAMPLE_TAG.test(name) ? 'example' : 'tag', `<${name}>`, line.start, closeEnd);
        parseRegion(out, openEnd, close, depth + 1);
        while (i < lines.length && lines[i].end < closeEnd) i++;
        i++;
        continue;
      }
    }
    const item = LIST_ITEM.exec(line.text);
    if (item) {
      i = parseList(out, lines, i, depth);
      continue;
    }
    let j = i + 1;
    while (j < lines.length && !isBlank(lines[j]) && !startsBlock(lines[j]) && !OPEN_TAG.test(lines[j].text)) j++;
    const before = out.candidates.length;
    out.add('paragraph', line.text, line.start, lines[j - 1].end);
    if (out.candidates.length > before) paragraphs.push(out.candidates[out.candidates.length - 1]);
    i = j;
  }
  markExamples(out, paragraphs);
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
function parseList(out: Collector, lines: readonly Line[], first: number, depth: number): number {
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
      (HEADING.test(line.text) || FENCE.test(line.text) || (OPEN_TAG.test(line.text) && indentOf(line) <= baseIndent))
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
  void depth;
  return last + 1;
}

const LIST_ITEM_MARKER = /^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+/;

/** Inline spans: template variables, jinja blocks, one-line tags; code spans excluded. */
function parseInline(out: Collector, code: readonly Candidate[]): void {
  const text = out.text;
  const inCode = (at: number): boolean => code.some((c) => at >= c.start && at < c.end);
  for (const m of text.matchAll(/\{\{-?\s*([A-Za-z_][\w.]*)[^{}]*?-?\}\}/g)) {
    if (!inCode(m.index)) out.add('variable', `{{${m[1]}}}`, m.index, m.index + m[0].length);
  }
  for (const m of text.matchAll(/(?<![{$\\])\{([A-Za-z_][\w]*)\}(?!\})/g)) {
    if (!inCode(m.index)) out.add('variable', `{${m[1]}}`, m.index, m.index + m[0].length);
  }
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
  for (const m of text.matchAll(/<([A-Za-z][\w.:-]*)(?:\s[^<>\n]*)?>[^\n]*?<\/\1>/g)) {
    if (!inCode(m.index))
      out.add(EXAMPLE_TAG.test(m[1]) ? 'example' : 'tag', `<${m[1]}>`, m.index, m.index + m[0].length);
  }
}

const KIND_RANK: Record<SectionKind, number> = {
  frontmatter: 0,
  role: 1,
  heading: 2,
  example: 3,
  tag: 4,
  jinja: 5,
  list: 6,
  'list-item': 7,
  code: 8,
  paragraph: 9,
  variable: 10,
};

/** Nests candidates by containment; a span crossing an enclosing one, or repeating it, is dropped. */
function buildTree(candidates: readonly Candidate[]): PromptSection[] {
  // On an identical span the more specific kind wins over a plain paragraph (a line that is one variable).
  const rank = (c: Candidate): number => (c.kind === 'paragraph' ? 99 : KIND_RANK[c.kind]);
  const sorted = [...candidates].sort((a, b) => a.start - b.start || b.end - a.end || rank(a) - rank(b));
  const result: PromptSection[] = [];
  const stack: PromptSection[] = [];
  for (const c of sorted) {
    while (stack.length && stack[stack.length - 1].end <= c.start) stack.pop();
    const top = stack[stack.length - 1];
    if (
      top &&
      (c.end > top.end ||
        (c.start === top.start &&
          c.end === top.end &&
          (c.kind === top.kind || c.kind === 'paragraph' || top.kind === 'paragraph')))
    )
      continue;
    const section: PromptSection = {
      index: result.length,
      kind: c.kind,
      label: c.label,
      start: c.start,
      end: c.end,
      depth: stack.length,
      parent: top ? top.index : null,
    };
    result.push(section);
    stack.push(section);
  }
  return result;
}

/** The sections of `text`, in document order, each after its parent. */
export function splitPromptSections(text: string): PromptSection[] {
  const out = new Collector(text);
  let bodyStart = 0;
  const front = /^---[ \t]*\r?\n[\s\S]*?\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (front) {
    out.add('frontmatter', 'front matter', 0, front[0].length);
    bodyStart = front[0].length;
  }
  const roles = findRoles(text, bodyStart, text.length);
  if (roles.length) {
    if (text.slice(bodyStart, roles[0].start).trim()) parseRegion(out, bodyStart, roles[0].start, 0);
    for (const r of roles) {
      out.add('role', r.role, r.start, r.end);
      parseRegion(out, r.bodyStart, r.end, 1);
    }
  } else {
    parseRegion(out, bodyStart, text.length, 0);
  }
  parseInline(
    out,
    out.candidates.filter((c) => c.kind === 'code'),
  );
  return buildTree(out.candidates);
}

/** Direct children of section `index` (null: the top-level sections). */
export function childrenOf(sections: readonly PromptSection[], index: number | null): PromptSection[] {
  return sections.filter((s) => s.parent === index);
}

/**
 * The non-overlapping sections that attribution ablates: the top-level ones, descending while there is
 * only one (a prompt that is all one heading is split at its children). Inline spans are never units.
 */
export function attributionUnits(sections: readonly PromptSection[]): PromptSection[] {
  const blockOnly = (list: PromptSection[]): PromptSection[] => list.filter((s) => s.kind !== 'variable');
  let units = blockOnly(childrenOf(sections, null));
  while (units.length === 1) {
    const children = blockOnly(childrenOf(sections, units[0].index));
    if (children.length === 0) break;
    units = children;
  }
  return units;
}
