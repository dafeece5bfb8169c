// Messages between the extension host and the tokenizer worker (tokenizerWorker.ts). Chunk counts travel as
// one transferred Float64Array of (start, end, tokens, before) quadruples, not as objects.
import type { CostDiagnostic } from './editorModels';
import type { CostOptions } from './costSummary';
import type { TargetPreset } from './presets';

export interface TokenizerWorkerConfig {
  /** Folder with the vendored tokenizer assets. */
  readonly assetsDir: string;
}

export type HostToTokenizerWorker =
  | { readonly type: 'count'; readonly requestId: number; readonly document: string; readonly text: string; readonly preset: TargetPreset; readonly options: CostOptions }
  | { readonly type: 'forget'; readonly document: string };

export type TokenizerWorkerToHost =
  | {
      readonly type: 'counted';
      readonly requestId: number;
      readonly total: number;
      readonly tokenizedChunks: number;
      /** (start, end, tokens, before) per chunk. */
      readonly chunks: Float64Array;
      readonly chatOverhead: number;
      readonly diagnostics: readonly CostDiagnostic[];
    }
  | { readonly type: 'failed'; readonly requestId: number; readonly message: string };
