// The prompt files the scenarios open. Line numbers matter: scenarios select by line.

/** Lines 3–5 and 7–9 are the two paragraphs. */
export const PROMPT_MD = [
  '# Support assistant',
  '',
  'You are Quill, the support assistant for Northwind Cloud Storage.',
  'Answer questions from customers in the help-center chat.',
  'Use only the facts in the knowledge base excerpts you are given.',
  '',
  'Never ask for a password or a recovery code.',
  'If the knowledge base does not cover the question, say that you do not know',
  'and offer to open a ticket. Keep every answer under 120 words.',
  '',
].join('\n');

/** PROMPT_MD 22 times under part headings: about 2,000 tokens, the embedded model's context. */
export const LONG_MD = Array.from({ length: 22 }, (_, i) => `## Part ${i + 1}\n\n${PROMPT_MD}`).join('\n');

export const SECOND_PARAGRAPH = { first: 7, last: 9 };

export function paragraphText(text: string, first: number, last: number): string {
  return text
    .split('\n')
    .slice(first - 1, last)
    .join('\n');
}

/** Whitespace and the glyphs panels use to show it, removed, so token texts can be compared with source text. */
export function compact(text: string): string {
  return text.replace(/[\s·⏎↵␣▁Ġ→⇥]/g, '');
}
