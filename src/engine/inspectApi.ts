// The engine's public face: what whoever asks for an inspection (panel host, CLI, worker, bench) may use,
// and the contract of the answer (a stream of InspectionEvents). No `vscode` import.
import type { ExecutionProviderSetting, InspectionEvent, InspectionEventSink } from '../shared/protocol';
import type { ModelDtype } from './runtime/modelFiles';
import { firstLine } from '../shared/errorText';
import { EngineError } from './engineError';
import type { ExactRows } from './analysis/exactRows';

export { EngineError } from './engineError';
export { InspectionCancelled, runInspection } from './inspection';
export { ModelCache, type ModelCacheOptions } from './runtime/modelCache';
export { isModelDtype, MODEL_DTYPES, type ModelDtype } from './runtime/modelFiles';

export type TokenWindow = 'start' | 'end';

export interface InspectRequest {
  readonly requestId: number;
  readonly text: string;
  /** The `promptAttention.model` setting: '' (embedded default), a folder path, or a Hub model id. */
  readonly model: string;
  readonly provider: ExecutionProviderSetting;
  /** Characters above which the text is refused with a one-line message. */
  readonly maxCharacters: number;
  /** Tokens to inspect at most (0 = the model's context); longer input is cut to this window. */
  readonly maxTokens: number;
  /** Which end of an over-long input to keep. */
  readonly window: TokenWindow;
  /** The `promptAttention.modelDtype` setting / --dtype: which ONNX file of the folder runs (default auto). */
  readonly dtype?: ModelDtype;
  /** Inspect as a chat through the model's template: the text is the system message (or holds role sections);
   * `userMessage` (the promptAttention.chat.userMessage setting) is added when it names no user turn. */
  readonly chat?: { readonly userMessage: string };
  /** The caller asks for rows when it shows them (attentionRowRequest.ts): no per-head rows are computed
   * in advance above the dense limit. */
  readonly rowsOnDemand?: boolean;
}

/** Where runInspection sends its events; `onRawLayer` (optional) gets each layer's float32 probabilities
 * [heads, n, n] before compaction (CLI --dense, bench). */
export interface InspectionOutput {
  readonly emit: InspectionEventSink;
  onRawLayer?(layer: number, data: Float32Array, heads: number, n: number): void;
  /** Gets what exact rows are computed from after the run (null: the graph kept no Q and K). */
  onExactRows?(rows: ExactRows | null): void;
}

export interface InspectHandle {
  cancel(): void;
  /** Settles after the summary, an error or cancellation. */
  readonly finished: Promise<void>;
}

/** The error event for a failed inspection: an EngineError's line as is, anything else as one line plus its stack. */
export function errorEvent(requestId: number, error: unknown): InspectionEvent {
  if (error instanceof EngineError) return { kind: 'error', requestId, message: error.message };
  return {
    kind: 'error',
    requestId,
    message: `Inspection failed: ${firstLine(error)}`,
    ...(error instanceof Error && error.stack ? { detail: error.stack } : {}),
  };
}

// For the bench only, which times the layers under an inspection apart (raw session, tapped graph).
export { LoadedModel } from './runtime/loadedModel';
export { ExactRows } from './analysis/exactRows';
export { ModelTokenizer } from './runtime/modelTokenizer';
export { prefillFeeds } from './runtime/prefillFeeds';
export { createSession } from './runtime/executionProviders';
export { ElemType } from './graph/onnxGraph';
export { prepareTappedModel, type GraphInputInfo, type TappedModel } from './graph/tapCache';
export { PROBABILITY_ROWS_INPUT } from './graph/attentionStatsGraph';

// Prompt sections, answer attribution and the section diff (the attribute and diff commands, inspect's sections).
export {
  attributeAnswer,
  splitAnswer,
  type AttributedSection,
  type AttributionModel,
  type AttributionResult,
} from './analysis/attribution';
export { attributionModel } from './analysis/attributionModel';
export { attributionUnits, splitPromptSections, type PromptSection } from './analysis/sections';
export { inspectSections, meanReceived, sectionAttention, type InspectSection } from './analysis/sectionStats';
export { attentionFlops, diffSections, type DiffInputSection, type SectionDiffEntry } from './analysis/sectionDiff';
export { LogitsSession } from './runtime/logitsSession';
export { validateText } from './runtime/inputValidation';
export { modelSummary } from './inspection';
