// Requests between the extension host and the tokenizer worker (tokenizerWorker.ts), carried by the shared
// request/reply mechanism (shared/requestReply.ts). A document's text goes
// whole once, then as edits against the version the worker holds (a keystroke is a few characters, not the
// whole text to clone). Chunk counts travel as one transferred Float64Array of (start, end, tokens, before)
// quadruples, not as objects.
import type { CostDiagnostic, SectionLens } from './editorModels';
import type { CostOptions } from './costSettings';
import type { TargetPreset } from './presets';
import type { TextEdit } from './textEdit';
import { request } from '../shared/requestReply';

export interface TokenizerWorkerConfig {
  /** Folder with the vendored tokenizer assets. */
  readonly assetsDir: string;
}

/** The whole text, or an edit of the text the worker has from request `baseRequestId` of the same document. */
export type TextChange = { readonly text: string } | { readonly edit: TextEdit; readonly baseRequestId: number };

export interface CountParams {
  readonly document: string;
  readonly change: TextChange;
  readonly preset: TargetPreset;
  readonly options: CostOptions;
  /** Whether the reply carries the section CodeLens (src/shared/promptSections.ts cuts the sections). */
  readonly lenses?: boolean;
}

export type CountReply =
  | {
      readonly total: number;
      readonly tokenizedChunks: number;
      /** (start, end, tokens, before) per chunk. */
      readonly chunks: Float64Array;
      readonly chatOverhead: number;
      readonly diagnostics: readonly CostDiagnostic[];
      /** The section CodeLens (computed here, so the host only places them). */
      readonly lenses: readonly SectionLens[];
    }
  /** The worker does not hold the edit's base text (the host then sends the whole text). */
  | { readonly stale: true };

/** `baseRequestId` in an edit names the count request whose text the edit applies to. */
export const COUNT = request<CountParams & { readonly requestId: number }, CountReply>('count');
export const FORGET = request<{ readonly document: string }, null>('forget');
