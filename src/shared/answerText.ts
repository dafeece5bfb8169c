// Where a prompt file holds its answer: after a line `---answer---`. The CLI's attribute, the engine's
// attribution and the editor's Attribute Answer split the text the same way. No `vscode` import.

export const ANSWER_SEPARATOR = /^---answer---[ \t]*\r?$/m;

/** Splits "prompt\n---answer---\nanswer"; null without a separator line. */
export function splitAnswer(text: string): { prompt: string; answer: string } | null {
  const m = ANSWER_SEPARATOR.exec(text);
  if (!m) return null;
  const prompt = text.slice(0, m.index).replace(/\r?\n$/, '');
  const answer = text.slice(m.index + m[0].length).replace(/^\n/, '');
  return { prompt, answer };
}
