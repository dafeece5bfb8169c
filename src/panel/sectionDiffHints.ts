// What the editor shows after a diff against git HEAD, as plain data: a CodeLens on each section of the
// working copy with its status and the change in tokens and attention, and a one-line summary that also
// names the removed sections (they have no place in the working copy). No `vscode` import.
import type { SectionDiffEntry } from '../shared/sectionDiffEntry';
import type { SectionLens } from './attributionHints';

export interface DiffJsonLike {
  readonly old: { readonly tokens: number };
  readonly new: { readonly tokens: number };
  readonly tokenDelta: number;
  readonly sections: readonly Pick<
    SectionDiffEntry,
    'status' | 'newIndex' | 'label' | 'oldTokens' | 'newTokens' | 'oldAttentionShare' | 'newAttentionShare'
  >[];
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

/** `startOf(index)`: where the working copy's section `index` starts in the document. */
export function sectionDiffHints(
  doc: DiffJsonLike,
  startOf: (index: number) => number | undefined,
): { lenses: SectionLens[]; summary: string } {
  const lenses: SectionLens[] = [];
  for (const s of doc.sections) {
    if (s.newIndex === null) continue;
    const offset = startOf(s.newIndex);
    if (offset === undefined) continue;
    const title =
      s.status === 'same'
        ? `same vs HEAD · attention ${pct(s.oldAttentionShare)} → ${pct(s.newAttentionShare)}`
        : s.status === 'added'
          ? `added since HEAD · ${s.newTokens} tokens · ${pct(s.newAttentionShare)} of the attention`
          : `changed since HEAD · tokens ${s.oldTokens} → ${s.newTokens} · attention ${pct(s.oldAttentionShare)} → ${pct(s.newAttentionShare)}`;
    lenses.push({ offset, title });
  }
  const count = (status: string): number => doc.sections.filter((s) => s.status === status).length;
  const removed = doc.sections.filter((s) => s.status === 'removed');
  const sign = doc.tokenDelta >= 0 ? '+' : '−';
  const summary = `Since HEAD: ${doc.old.tokens} → ${doc.new.tokens} tokens (${sign}${Math.abs(doc.tokenDelta)}); ${count('changed')} changed, ${count('added')} added, ${removed.length} removed${removed.length ? ` (${removed.map((r) => `"${r.label}", −${r.oldTokens} tokens`).join('; ')})` : ''}.`;
  return { lenses, summary };
}
