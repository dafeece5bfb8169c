// What Attribute Answer and Diff Sections produce, as one typed shape for every consumer: the CLI's
// `attribute`/`diff --format json`, the engine worker's replies to the extension host, and the editor hints
// built from them. Only types and the request parameters: the engine builds them (engine/explain.ts).
import type { AnswerTokenRows, ExecutionProviderSetting, ProgressUpdate } from './protocol';
import type { SectionDiffEntry } from './sectionDiffEntry';
import type { ModelJson, Savings } from './cliJson';

/** The model that produced a result, so advice is never read without its source. */
export interface ExplainModel extends ModelJson {
  /** True for the embedded proxy model (its advice does not carry over to a production model). */
  readonly embedded?: boolean;
}

/** A prompt section with its tokens and its share of the attention received (`inspect`'s sections too). */
export interface SectionShareJson {
  readonly index: number;
  readonly kind: string;
  readonly label: string;
  readonly start: number;
  readonly end: number;
  readonly tokens: number;
  readonly attentionShare: number;
}

export interface AttributedSectionJson extends SectionShareJson {
  /** Log-probability of the answer without the section minus with it (nats). */
  readonly ablation: { readonly logProbDelta: number };
  readonly attention: number;
  readonly disagreement: string | null;
}

/** The sections an answer does not depend on (shared/cliJson.ts). */
export type SavingsJson = Savings;

export interface AttributeJson {
  readonly model: ExplainModel;
  /** logProb: of the span's tokens when a span was attributed. */
  readonly answer: { readonly text: string; readonly tokens: number; readonly logProb: number };
  /** attribute --span: the answer's characters attributed. */
  readonly span?: { readonly start: number; readonly end: number; readonly text: string };
  readonly sections: readonly AttributedSectionJson[];
  readonly method: 'leave-one-out' | 'random-ablation';
  readonly ablations?: number;
  /** Whether the model uses the prompt for this answer; no cut advice when it does not. */
  readonly faithfulness: {
    readonly logProbWithPrompt: number;
    readonly logProbWithoutPrompt: number;
    readonly marginNats: number;
    readonly requiredNats: number;
    readonly passed: boolean;
  };
  /** null when the faithfulness check did not pass. */
  readonly savings: SavingsJson | null;
}

/** One aligned pair of sections (shared/sectionDiffEntry.ts). */
export type DiffSectionJson = SectionDiffEntry;

export interface DiffJson {
  /** The model whose tokenizer counted and whose attention was measured. */
  readonly model: ExplainModel;
  readonly old: { readonly tokens: number; readonly attentionFlops: number };
  readonly new: { readonly tokens: number; readonly attentionFlops: number };
  readonly tokenDelta: number;
  readonly sections: readonly DiffSectionJson[];
}

/** Which model runs, as the inspector's settings name it. */
export interface ExplainModelChoice {
  /** '' (embedded default), a folder path, or a Hub model id. */
  readonly model: string;
  readonly provider: ExecutionProviderSetting;
  readonly dtype?: string;
}

export type AnswerSpecParams = { readonly text: string } | { readonly generate: number };

export interface AttributeParams extends ExplainModelChoice {
  readonly prompt: string;
  readonly answer: AnswerSpecParams;
  /** The answer's characters to attribute (all of it when absent). */
  readonly span?: { readonly start: number; readonly end: number };
}

export interface DiffParams extends ExplainModelChoice {
  readonly oldText: string;
  readonly newText: string;
  /** With an answer, each version is attributed too. */
  readonly answer: string | null;
}

/** Progress of an attribution or a diff: the model loading, then numbered steps ("Ablation 5 of 12"). */
export type ExplainEvent =
  | { readonly kind: 'load'; readonly progress: ProgressUpdate }
  | { readonly kind: 'step'; readonly done: number; readonly total: number; readonly message: string };

/** Generate after an inspection: the inspected token ids continue (the model and settings as inspected). */
export interface GenerateParams extends ExplainModelChoice {
  readonly promptIds: readonly number[];
  readonly maxTokens: number;
  /** 0: greedy. */
  readonly temperature: number;
  readonly seed: number;
  /** Read this answer after this prompt instead of generating (promptIds and maxTokens are then unused). */
  readonly given?: { readonly prompt: string; readonly answer: string };
}

/** One answer token as it is generated (shared/protocol.ts's AnswerTokenRows). */
export type AnswerTokenEvent = AnswerTokenRows;

/** What the model wrote: its text, and its tokens with offsets into that text (`inspect --generate` too). */
export interface GeneratedAnswerJson {
  readonly text: string;
  readonly tokens: readonly {
    readonly id: number;
    readonly text: string;
    readonly start: number;
    readonly end: number;
  }[];
}

export interface GenerateReply extends GeneratedAnswerJson {
  readonly kvCache: boolean;
}
