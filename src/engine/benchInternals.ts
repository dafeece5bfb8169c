// The engine's internals the bench times apart from a whole inspection (the raw session, the tapped graph,
// the tokenizer). Only bench/ may import this module (lint enforces it); everyone else uses inspectApi.ts.
export { LoadedModel } from './runtime/loadedModel';
export { ExactRows } from './analysis/exactRows';
export { OrtRowKernel, sharedRowKernel } from './runtime/rowKernel';
export { ModelTokenizer } from './runtime/modelTokenizer';
export { prefillFeeds } from './runtime/prefillFeeds';
export { createSession } from './runtime/executionProviders';
export { ElemType } from './graph/onnxGraph';
export { prepareTappedModel, type GraphInputInfo, type TappedModel } from './graph/tapCache';
export { PROBABILITY_ROWS_INPUT } from './graph/attentionStatsGraph';
export { GenerationSession } from './runtime/generationSession';
export type { ModelConfig } from './runtime/modelConfig';
export { prepareGgufModel } from './runtime/ggufModel';
export { readGgufFile } from './runtime/ggufFile';
export { loadGgufTokenizer } from './runtime/ggufTokenizer';
export { LOGIT_ROWS_INPUT, LOGITS_OUTPUT } from './graph/ggufDecoder';
