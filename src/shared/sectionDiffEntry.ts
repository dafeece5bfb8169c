// One aligned pair of sections in the diff of two prompt versions: what the engine's section diff computes,
// the CLI's `diff --format json` writes, and the panel's Diff with HEAD reads back.

export type DiffStatus = 'added' | 'removed' | 'changed' | 'same';

export interface SectionDiffEntry {
  readonly status: DiffStatus;
  readonly oldIndex: number | null;
  readonly newIndex: number | null;
  readonly label: string;
  readonly oldTokens: number;
  readonly newTokens: number;
  readonly oldAttentionShare: number;
  readonly newAttentionShare: number;
  readonly oldLogProbDelta?: number;
  readonly newLogProbDelta?: number;
}
