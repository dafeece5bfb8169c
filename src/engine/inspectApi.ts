// The engine's public face: what whoever asks for an inspection (the CLI, the worker, the bench) may use,
// and the contract of the answer (a stream of InspectionEvents). No `vscode` import.
import type { InspectionEvent } from '../shared/protocol';
import { describeError, lineWithCause } from '../shared/errorText';
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
  type ExactRowSource,
  type ModelDtype,
  type TokenWindow,
} from '../shared/inspectContract';

/**
 * The error event for a failed inspection: an EngineError's line as is (with its cause chain as the log's
 * detail, when it has a cause), anything else as one line plus its stack and causes.
 */
export function errorEvent(requestId: number, error: unknown): InspectionEvent {
  if (error instanceof EngineError) {
    const detail = error.cause !== undefined ? describeError(error) : undefined;
    return { kind: 'error', requestId, message: error.message, ...(detail ? { detail } : {}) };
  }
  return {
    kind: 'error',
    requestId,
    message: `Inspection failed: ${lineWithCause(error)}`,
    ...(error instanceof Error ? { detail: describeError(error) } : {}),
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
export { attributionUnits, splitPromptSections, type PromptSection } from '../shared/promptSections';
export { inspectSections, meanReceived, sectionAttention, type InspectSection } from './analysis/sectionStats';
export { attentionFlops, diffSections, type DiffInputSection, type SectionDiffEntry } from './analysis/sectionDiff';
export { LogitsSession } from './runtime/logitsSession';
export { validateText } from './runtime/inputValidation';
export { modelSummary } from './inspection';
export {
  attributionReport,
  explainModel,
  fixed,
  runAttribution,
  sectionDiffReport,
  toAttributeJson,
  type ExplainContext,
} from './explain';
export { ExplainSessions, type ExplainSession } from './explainSessions';
export {
  AnswerSessions,
  answerTokens,
  generateAnswer,
  readGivenAnswer,
  type AnswerOptions,
  type AnswerToken,
  type GeneratedAnswer,
} from './answer';
export { GenerationCancelled, GenerationSession, type GeneratedToken } from './runtime/generationSession';
export { AttributionCancelled } from './runtime/logitsSession';
export {
  discoverModels,
  MODEL_SOURCES,
  type DiscoveredModel,
  type DiscoveredSource,
  type DiscoveryOptions,
} from './runtime/modelDiscovery';
export { defaultStoreEnv, type StoreEnv } from './runtime/ollamaStore';
export { DEFAULT_MODEL_NAME } from './runtime/modelSource';
export { GGUF_ARCHITECTURES } from './runtime/ggufFile';
