// The contract of an inspection, apart from the engine that runs it: what is asked (InspectRequest, the model
// dtypes and token windows it may name), where the answer goes (InspectionOutput) and the handle on a running
// one. The engine, the worker, the CLI and the panel all speak it; none of it needs the engine's code.
import type { ExecutionProviderSetting, InspectionEventSink } from './protocol';

/** The `promptAttention.modelDtype` setting / `--dtype`: which ONNX file of a model folder runs. */
export const MODEL_DTYPES = ['auto', 'fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];

export function isModelDtype(value: unknown): value is ModelDtype {
  return typeof value === 'string' && (MODEL_DTYPES as readonly string[]).includes(value);
}

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
  /** A character offset in `text` (the cursor or the selection's middle): an over-long input keeps the tokens
   * centred on it instead of one end ("Inspect Around the Cursor"). */
  readonly around?: number;
  /** The `promptAttention.modelDtype` setting / --dtype: which ONNX file of the folder runs (default auto). */
  readonly dtype?: ModelDtype;
  /** Inspect as a chat through the model's template: the text is the system message (or holds role sections);
   * `userMessage` (the promptAttention.chat.userMessage setting) is added when it names no user turn. */
  readonly chat?: { readonly userMessage: string };
  /** The caller asks for rows when it shows them (attentionRowRequest.ts): no per-head rows are computed
   * in advance above the dense limit. */
  readonly rowsOnDemand?: boolean;
}

/** What exact attention rows are computed from after a run (the engine's ExactRows): one row of a layer's
 * head, or with head null the mean over its heads; a RangeError for a row outside the inspection. */
export interface ExactRowSource {
  row(layer: number, head: number | null, query: number): Float32Array;
  /** The same row through the engine's faster kernel where it has one (the worker's path). */
  rowAsync?(layer: number, head: number | null, query: number): Promise<Float32Array>;
  /** Rollout rows up to `layer` for `queries` (distinct), computed in blocks from the kept Q and K; `isCancelled` is
   * checked between blocks (null: cancelled), `onProgress` gets the layers done. */
  rolloutRows?(
    layer: number,
    queries: readonly number[],
    options: {
      readonly isCancelled?: () => boolean;
      readonly onProgress?: (progress: { readonly done: number; readonly of: number }) => void;
    },
  ): Promise<Float32Array[] | null>;
  /** Starts readying that kernel (called once the run is done, before the first hover); settles when it is
   * ready or has failed (a failure shows at the first row), so the worker can wait for it before exiting. */
  prepare?(): Promise<void>;
  /** Bytes held (the kept Q and K). */
  readonly bytes: number;
}

/** Where runInspection sends its events; `onRawLayer` (optional) gets each layer's float32 probabilities
 * [heads, n, n] before compaction (CLI --dense, bench). */
export interface InspectionOutput {
  readonly emit: InspectionEventSink;
  onRawLayer?(layer: number, data: Float32Array, heads: number, n: number): void;
  /** Gets what exact rows are computed from after the run (null: the graph kept no Q and K). */
  onExactRows?(rows: ExactRowSource | null): void;
}

export interface InspectHandle {
  cancel(): void;
  /** Settles after the summary, an error or cancellation. */
  readonly finished: Promise<void>;
}
