// The engine's public face: what whoever asks for an inspection (the CLI, the worker, the bench) may use,
// and the contract of the answer (a stream of InspectionEvents). No `vscode` import.
import type { InspectionEvent } from '../shared/protocol';
import { firstLine } from '../shared/errorText';
import { EngineError } from './engineError';

export { EngineError } from './engineError';
export { InspectionCancelled, runInspection } from './inspection';
export { ModelCache, type ModelCacheOptions } from './runtime/modelCache';
export {
  isModelDtype,
  MODEL_DTYPES,
  type InspectHandle,
  type InspectionOutput,
  type InspectRequest,
  type ModelDtype,
  type TokenWindow,
} from '../shared/inspectContract';

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

// A type of the face's answers (ModelCache hands out loaded models); the class itself is the bench's.
export type { LoadedModel } from './runtime/loadedModel';

// Prompt sections, answer attribution and the section diff (the attribute and diff commands, inspect's sections).
export {
  attributeAnswer,
  splitAnswer,
  type AttributedSection,
  type AttributionModel,
  type AttributionResult,
} from './analysis/attribution';
export { attributionModel } from './analysis/attributionModel';
export { attributionUnits, splitPromptSections, type PromptSection } from '../shared/sections';
export { inspectSections, meanReceived, sectionAttention, type InspectSection } from './analysis/sectionStats';
export { attentionFlops, diffSections, type DiffInputSection, type SectionDiffEntry } from './analysis/sectionDiff';
export { LogitsSession } from './runtime/logitsSession';
export { validateText } from './runtime/inputValidation';
export { modelSummary } from './inspection';
