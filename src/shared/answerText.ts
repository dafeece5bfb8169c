// Where a prompt file holds its answer (after a line `---answer---`) and how an answer continues its prompt
// (joinAnswer): the CLI, the engine's attribution, Attribute Answer and the answer strip agree. No `vscode` import.

export const ANSWER_SEPARATOR = /^---answer---[ \t]*\r?$/m;

/** Splits "prompt\n---answer---\nanswer"; null without a separator line. */
export function splitAnswer(text: string): { prompt: string; answer: string } | null {
  const m = ANSWER_SEPARATOR.exec(text);
  if (!m) return null;
  const prompt = text.slice(0, m.index).replace(/\r?\n$/, '');
  const answer = text.slice(m.index + m[0].length).replace(/^\n/, '');
  return { prompt, answer };
}

/** The answer continues the prompt; a space joins them when neither side has whitespace at the seam. */
export function joinAnswer(prompt: string, answer: string): { text: string; boundary: number } {
  const trimmed = answer.replace(/\r?\n+$/, '');
  const seam = prompt.length > 0 && !/\s$/.test(prompt) && !/^\s/.test(trimmed) ? ' ' : '';
  return { text: prompt + seam + trimmed, boundary: prompt.length };
}
