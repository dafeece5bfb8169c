// How the panel words a token and an attention weight (numbers of counts, bytes and shares come from
// src/shared/format.ts, the same formatter the status bar and the CLI use).

/** A weight (0..1) as shown in tooltips: three significant digits. */
export function formatWeight(weight: number): string {
  return weight >= 0.001 ? weight.toFixed(3) : weight.toExponential(1);
}

/** Token text made visible for lists: whitespace shown as symbols, long text cut. */
export function visibleTokenText(text: string, max = 24): string {
  const shown = text.replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/ /g, '·');
  return shown.length > max ? `${shown.slice(0, max - 1)}…` : shown || '∅';
}
