// The structure of a prompt, one model for the whole extension (the cost CodeLens, the panel's Sections card,
// attribution, diff and Inspect as Chat): nested sections (chat roles, front matter, markdown headings and the
// blocks under them, example turns, `---` parts, paragraphs, lists and their items, fenced code, XML-style tags,
// few-shot examples, template variables and jinja blocks), each with its kind, a short label and its span
// [start, end) in UTF-16 code units. Only a document whose top level is a transcript (`system:` / `user:` blocks,
// ChatML or Llama 3 headers, `.prompty` roles, role headings) has role sections; `User:` lines inside a section
// are that section's example turns. Pure: text in, sections out. Detectors (promptBlocks.ts) propose spans; one
// pass nests them by containment and drops any span that crosses another, so the result is always a proper tree.
import {
  Collector,
  FENCE,
  HEADING,
  parseInline,
  parseRegion,
  ROLE_HEADING,
  ROLE_LINE,
  splitLines,
  type Candidate,
  type SectionKind,
} from './promptBlocks';
import type { SectionMemo } from './sectionMemo';

export type { SectionKind } from './promptBlocks';

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
  /** role and turn: the message's own text, without the role marker. */
  readonly bodyStart?: number;
  readonly bodyEnd?: number;
}

// Chat templates pasted as text: ChatML and Llama 3 headers. A message runs from its header to its end marker,
// the next header or the end of the text, whichever comes first.
const TEMPLATES = [
  { open: '<|im_start|>', header: /<\|im_start\|>[ \t]*(\w+)[^\n]*\n?/y, close: '<|im_end|>' },
  {
    open: '<|start_header_id|>',
    header: /<\|start_header_id\|>[ \t]*(\w+)[ \t]*<\|end_header_id\|>/y,
    close: '<|eot_id|>',
  },
] as const;
const FRONT_MATTER = /^---[ \t]*\r?\n[\s\S]*?\r?\n---[ \t]*(?:\r?\n|$)/;

interface RoleSpan {
  readonly role: string;
  readonly start: number;
  readonly bodyStart: number;
  readonly bodyEnd: number;
  readonly end: number;
}

/** The messages of a pasted chat template. The markers are found with indexOf: a pattern with a lazy body
 * (`[\s\S]*?` up to the end marker) costs ~10× more on a long prompt, and the sections run on every keystroke. */
function templateRoles(text: string, from: number, to: number): RoleSpan[] {
  const found: RoleSpan[] = [];
  const body = text.slice(from, to);
  for (const { open, header, close } of TEMPLATES) {
    let at = body.indexOf(open);
    while (at !== -1) {
      header.lastIndex = at;
      const m = header.exec(body);
      if (!m) {
        at = body.indexOf(open, at + 1);
        continue;
      }
      const bodyStart = at + m[0].length;
      const closeAt = body.indexOf(close, bodyStart);
      const nextAt = body.indexOf(open, bodyStart);
      let bodyEnd = body.length;
      let end = body.length;
      if (closeAt !== -1 && (nextAt === -1 || closeAt < nextAt)) {
        bodyEnd = closeAt;
        end = closeAt + close.length;
      } else if (nextAt !== -1) bodyEnd = end = nextAt;
      found.push({
        role: m[1].toLowerCase(),
        start: from + at,
        bodyStart: from + bodyStart,
        bodyEnd: from + bodyEnd,
        end: from + end,
      });
      at = body.indexOf(open, end);
    }
    if (found.length) return found;
  }
  return found;
}

/**
 * The top-level turns of a transcript, or none. A document is a transcript when its first line (after the
 * front matter) is a role line. Then bare role lines (`user:`, prompty) always open turns, and `User: …` lines
 * open turns too unless they stand under a heading, where they are that section's example turns. A heading ends
 * a `User: …` turn; a bare role's block holds its headings. One inline role line alone is not a conversation.
 */
function findTranscript(text: string, from: number, to: number): RoleSpan[] {
  const template = templateRoles(text, from, to);
  if (template.length) return template;
  const markers: { role: string; line: { start: number; end: number; text: string }; inline: boolean }[] = [];
  const ends: number[] = [];
  let fence: string | null = null;
  let inHeading = false;
  let sawContent = false;
  for (const line of splitLines(text, from, to)) {
    // Content before any role line: no line after it can open a turn.
    if (markers.length === 0 && sawContent) return [];
    const f = FENCE.exec(line.text);
    if (f) fence = fence === null ? f[1][0] : fence === f[1][0] ? null : fence;
    if (fence !== null || f) {
      if (markers.length === 0) sawContent = true;
      continue;
    }
    const heading = HEADING.exec(line.text);
    if (heading) {
      const last = markers[markers.length - 1];
      if (last?.inline && ends.length < markers.length) ends.push(line.start);
      inHeading = true;
      if (markers.length === 0 && !ROLE_HEADING.test(heading[2].trim())) sawContent = true;
      continue;
    }
    const m = ROLE_LINE.exec(line.text);
    if (m) {
      const inline = m[2].trim() !== '';
      const opens = markers.length > 0 ? !inline || !inHeading : !sawContent && !inHeading;
      if (opens) {
        if (ends.length < markers.length) ends.push(line.start);
        markers.push({ role: m[1].toLowerCase(), line, inline });
        inHeading = false;
        continue;
      }
    }
    if (markers.length === 0 && line.text.trim() !== '') sawContent = true;
  }
  if (markers.length < 2 && !markers.some((s) => !s.inline)) return [];
  if (ends.length < markers.length) ends.push(to);
  return markers.map((s, i) => {
    const bodyStart = s.inline ? s.line.start + s.line.text.indexOf(':') + 1 : Math.min(to, s.line.end + 1);
    return { role: s.role, start: s.line.start, bodyStart, bodyEnd: ends[i], end: ends[i] };
  });
}

const KIND_RANK: Record<SectionKind, number> = {
  frontmatter: 0,
  role: 1,
  part: 2,
  heading: 3,
  example: 4,
  turn: 5,
  tag: 6,
  jinja: 7,
  list: 8,
  'list-item': 9,
  code: 10,
  paragraph: 11,
  variable: 12,
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
    const { kind, label, start, end, bodyStart, bodyEnd } = c;
    const index = result.length;
    const depth = stack.length;
    const parent = top ? top.index : null;
    // Two literals, not a spread of an optional part: this runs for every section on every keystroke.
    const section: PromptSection =
      bodyStart !== undefined && bodyEnd !== undefined
        ? { index, kind, label, start, end, depth, parent, bodyStart, bodyEnd }
        : { index, kind, label, start, end, depth, parent };
    result.push(section);
    stack.push(section);
  }
  return result;
}

/**
 * The sections of `text`, in document order, each after its parent. With a memo kept for the document, the
 * regions parsed for its previous text are not parsed again (same result, less work per keystroke).
 */
export function splitPromptSections(text: string, memo?: SectionMemo): PromptSection[] {
  memo?.begin();
  const out = new Collector(text, memo);
  let bodyStart = 0;
  const front = FRONT_MATTER.exec(text);
  if (front) {
    out.add('frontmatter', 'front matter', 0, front[0].length);
    bodyStart = front[0].length;
  }
  let cursor = bodyStart;
  for (const r of findTranscript(text, bodyStart, text.length)) {
    if (r.start > cursor) parseRegion(out, cursor, r.start, 0);
    out.add('role', r.role, r.start, r.end, [r.bodyStart, r.bodyEnd]);
    parseRegion(out, r.bodyStart, r.bodyEnd, 1);
    cursor = r.end;
  }
  parseRegion(out, cursor, text.length, 0);
  memo?.end();
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

/** A section the CodeLens and the panel's Sections card count, widened so that the list covers the text. */
export interface CoverSection {
  readonly start: number;
  readonly end: number;
  /** Where the section's own text starts (its heading line): where the CodeLens goes. */
  readonly anchor: number;
  readonly title: string;
  readonly kind: SectionKind;
}

/**
 * The attribution units, each widened to the next one's start (the first from the text's start, the last to
 * its end), so that the whitespace between them is counted too and their token counts add up to the total.
 */
export function coverSections(text: string, sections = splitPromptSections(text)): CoverSection[] {
  const units = attributionUnits(sections);
  return units.map((unit, i) => ({
    start: i === 0 ? 0 : unit.start,
    end: i + 1 < units.length ? units[i + 1].start : text.length,
    anchor: unit.start,
    title: unit.label,
    kind: unit.kind,
  }));
}
