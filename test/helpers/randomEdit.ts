// A random keystroke-sized edit of a text, for the tests that check incremental token counts against a fresh
// count after each of many seeded edits.

/**
 * One edit at a random place `at`: with probability `deleteShare` the deletion of 1 to `deleteUpTo`
 * characters, else the insertion of one of `inserts`.
 */
export function randomEdit(
  text: string,
  random: () => number,
  inserts: readonly string[],
  deleteShare: number,
  deleteUpTo: number,
): { readonly text: string; readonly at: number } {
  const at = Math.floor(random() * (text.length + 1));
  const edited =
    random() < deleteShare
      ? text.slice(0, at) + text.slice(at + 1 + Math.floor(random() * deleteUpTo))
      : text.slice(0, at) + inserts[Math.floor(random() * inserts.length)] + text.slice(at);
  return { text: edited, at };
}
