// The one edit between two versions of a text (what lies between their common prefix and suffix). The host
// sends the tokenizer worker a keystroke as such an edit, not as the whole document, and the incremental
// counter re-splits only the chunks around it.

export interface TextEdit {
  /** [start, end) of the replaced range, in the old text's UTF-16 offsets. */
  readonly start: number;
  readonly end: number;
  readonly insert: string;
}

/** Characters compared at a time: whole blocks in one pass, then a binary search inside the first that differs. */
const BLOCK = 4096;

/** The length of the longest common prefix of a and b (or of their suffixes, `fromEnd`), at most `limit`. */
function commonLength(a: string, b: string, limit: number, fromEnd: boolean): number {
  const same = (from: number, to: number): boolean =>
    fromEnd
      ? a.slice(a.length - to, a.length - from) === b.slice(b.length - to, b.length - from)
      : a.slice(from, to) === b.slice(from, to);
  // One pass over the text, not the log n passes of a binary search over all of it.
  let low = 0;
  while (low + BLOCK <= limit && same(low, low + BLOCK)) low += BLOCK;
  let high = Math.min(low + BLOCK, limit);
  const base = low;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (same(base, mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** The edit that turns `old` into `text`: the longest common prefix, then the longest common suffix of the rest. */
export function diffTexts(old: string, text: string): TextEdit {
  const limit = Math.min(old.length, text.length);
  const prefix = commonLength(old, text, limit, false);
  const suffix = commonLength(old, text, limit - prefix, true);
  return { start: prefix, end: old.length - suffix, insert: text.slice(prefix, text.length - suffix) };
}

export function applyEdit(old: string, edit: TextEdit): string {
  // join gives a flat string; `+` would give a rope that the next slice flattens.
  return [old.slice(0, edit.start), edit.insert, old.slice(edit.end)].join('');
}
