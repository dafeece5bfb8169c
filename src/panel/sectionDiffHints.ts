// What the editor shows after a diff against git HEAD, as plain data: a CodeLens on each section of the
// working copy with its status and the change in tokens and attention, and a one-line summary that also
// names the removed sections (they have no place in the working copy). No `vscode` import.
import type { DiffJson, DiffSectionJson } from '../shared/explainReport';
import type { SectionLens } from './attributionHints';

/** The part of a diff report the hints read (derived from the report's type, never a copy of it). */
export type DiffHintInput = Pick<DiffJson, 'tokenDelta'> & {
  readonly old: Pick<DiffJson['old'], 'tokens'>;
  readonly new: Pick<DiffJson['new'], 'tokens'>;
  readonly sections: readonly Pick<
    DiffSectionJson,
    'status' | 'newIndex' | 'label' | 'oldTokens' | 'newTokens' | 'oldAttentionShare' | 'newAttentionShare'
  >[];
};

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

/**
 * `startOf(index)`: where the working copy's section `index` starts in the document. `model`: whose tokenizer
 * made the counts (the diff runs the inspecting model), named in the summary and the hovers.
 */
export function sectionDiffHints(
  doc: DiffHintInput,
  startOf: (index: number) => number | undefined,
  model?: string,
): { lenses: SectionLens[]; summary: string } {
  const whose = model ? ` for ${model}` : '';
  const lenses: SectionLens[] = [];
  for (const s of doc.sections) {
    if (s.newIndex === null) continue;
    const offset = startOf(s.newIndex);
    if (offset === undefined) continue;
    // Two facts on the line; the attention and whose tokens they are go to the hover.
    const title =
      s.status === 'same'
        ? `same vs HEAD · attention ${pct(s.oldAttentionShare)} → ${pct(s.newAttentionShare)}`
        : s.status === 'added'
          ? `added since HEAD · ${s.newTokens} tokens`
          : `changed since HEAD · tokens ${s.oldTokens} → ${s.newTokens}`;
    const tooltip =
      s.status === 'added'
        ? `"${s.label}": ${s.newTokens} tokens${whose}, ${pct(s.newAttentionShare)} of the attention.`
        : `"${s.label}": ${s.oldTokens} → ${s.newTokens} tokens${whose}; attention ${pct(s.oldAttentionShare)} → ${pct(s.newAttentionShare)}.`;
    lenses.push({ offset, title, tooltip });
  }
  const count = (status: string): number => doc.sections.filter((s) => s.status === status).length;
  const removed = doc.sections.filter((s) => s.status === 'removed');
  const sign = doc.tokenDelta >= 0 ? '+' : '−';
  const summary = `Since HEAD: ${doc.old.tokens} → ${doc.new.tokens} tokens${whose} (${sign}${Math.abs(doc.tokenDelta)}); ${count('changed')} changed, ${count('added')} added, ${removed.length} removed${removed.length ? ` (${removed.map((r) => `"${r.label}", −${r.oldTokens} tokens`).join('; ')})` : ''}.`;
  return { lenses, summary };
}
