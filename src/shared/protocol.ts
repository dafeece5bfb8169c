// The one protocol module: the inspection result's shape, the inspection event stream (engine → worker →
// host → webview) and the typed messages between the extension host and the webview. No `vscode` import.
import type { AttentionRowReply, AttentionRowRequest } from './attentionRowRequest';
import type { RolloutRowsProgress, RolloutRowsReply, RolloutRowsRequest } from './rolloutRowsRequest';

/** One token with its [start, end) UTF-16 span in the inspected text; text === input.slice(start, end). */
export interface TokenInfo {
  readonly id: number;
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** True for tokens the tokenizer added (BOS); they have an empty span at 0. */
  readonly special?: boolean;
  /**
   * Chat inspections: the message the token belongs to, or 'template' for text the chat template added.
   * Template tokens (and a user message from the setting) are not in the inspected text: their span is
   * empty and `text` is what the template rendered.
   */
  readonly role?: TokenRole;
}

export type TokenRole = 'system' | 'user' | 'assistant' | 'template';

export type ExecutionProviderName = 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml';
export type ExecutionProviderSetting = 'auto' | ExecutionProviderName;

export type HeadRole = 'previous-token' | 'sink' | 'induction' | 'local' | 'broad';

/** Scores in [0, 1]; role is the strongest one (see engine/analysis/headRoles.ts for definitions). */
export interface HeadRoleScores {
  readonly previousToken: number;
  readonly sink: number;
  readonly induction: number;
  readonly local: number;
  readonly broad: number;
}

export interface HeadSummary {
  readonly layer: number;
  readonly head: number;
  readonly role: HeadRole;
  readonly scores: HeadRoleScores;
}

/** Short form of the model card (models/<name>/card.json) that the panel shows. */
export interface ModelCardSummary {
  readonly name: string;
  readonly parameters: number;
  readonly trainedOn: string;
  readonly proxyNote: string;
}

export interface ModelSummary {
  readonly id: string;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly maxTokens: number;
  /** The provider that actually ran. */
  readonly provider: ExecutionProviderName;
  /** One line, present when the requested provider could not start and CPU ran instead. */
  readonly fallbackReason?: string;
  /** The provider setting the run asked for: under `auto` a CPU fallback is normal (no warning). */
  readonly requestedProvider?: ExecutionProviderSetting;
  readonly card?: ModelCardSummary;
  /** The ONNX file that ran, relative to the model folder (e.g. onnx/model_q4.onnx). */
  readonly file?: string;
  /** Its dtype (fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4, or unknown). */
  readonly dtype?: string;
  /** One line, when `auto` did not take full precision: why this file ran. */
  readonly fileReason?: string;
  /** True for the embedded proxy model: only then does the panel show the proxy note. */
  readonly embedded?: boolean;
  /** What the model was read from, its quantization (e.g. Q4_K_M, or the per-tensor mix) and architecture. */
  readonly format?: 'onnx' | 'gguf' | 'safetensors';
  readonly quant?: string;
  readonly architecture?: string;
}

/** One of the most likely next tokens after the inspected text. */
export interface NextToken {
  readonly id: number;
  readonly text: string;
  readonly p: number;
}

/**
 * Attention rows in a compact form. A row is one query's weights over keys.
 * - 'dense-u8': k === n, weights[r * n + key].
 * - 'topk-u8': the k strongest keys of each row, strongest first, indices[r * k + j]; 0xffff pads short rows.
 * A weight is weights[..] / 255 * rowScale[r] (rowScale is the row's maximum weight).
 * k = 0 ('topk-u8' with weights, indices and rowScale empty): not computed; exact rows come on request.
 */
export interface AttentionRows {
  readonly encoding: 'dense-u8' | 'topk-u8';
  readonly rows: number;
  readonly n: number;
  readonly k: number;
  readonly weights: Uint8Array;
  readonly rowScale: Float32Array;
  readonly indices?: Uint16Array;
}

/**
 * A coarse picture of each head's attention (src/engine/graph/tilesGraph.ts): `size` = T = min(32, n), bins of
 * w = ⌈n / T⌉ tokens (the last non-empty one partial, trailing ones empty); data[(h · T + a) · T + b] = mean over
 * the queries of row bin a of the weight on the keys of key bin b (0 for an empty row bin); heads + 1 grids,
 * the head mean last.
 */
export interface OverviewTiles {
  readonly size: number;
  readonly data: Float32Array;
}

/** One layer's attention, streamed as soon as the worker has post-processed it. */
export interface LayerAttention {
  readonly layer: number;
  /** heads × n rows: row (h * n + q). */
  readonly heads: AttentionRows;
  /** Rollout up to and including this layer (Abnar & Zuidema 2020): n rows. */
  readonly rollout: AttentionRows;
  /** Per key: (1/n) Σ_q mean_h A[h][q][key]; sums to 1. */
  readonly received: Float32Array;
  readonly headSummaries: readonly HeadSummary[];
  /**
   * ‖v_j W_O^h‖ per head and key, [heads · n] (Kobayashi et al. 2020), when the graph gives it: the panel's
   * "attention × value norm" mode weighs each head's row by it and renormalizes (n floats a head, not n² rows).
   */
  readonly valueNorms?: Float32Array;
  /** Overview tiles, when the graph gives them: what the thumbnails and the matrix overview draw without rows. */
  readonly tiles?: OverviewTiles;
}

export interface Driver {
  readonly index: number;
  readonly text: string;
  /** Mean over layers of LayerAttention.received. */
  readonly received: number;
}

export interface LongRangePair {
  readonly query: number;
  readonly key: number;
  readonly distance: number;
  readonly weight: number;
}

export interface InspectionTimings {
  readonly tokenizeMs: number;
  readonly runMs: number;
  readonly statsMs: number;
  readonly totalMs: number;
}

export interface InspectionSummary {
  readonly heads: readonly HeadSummary[];
  readonly drivers: readonly Driver[];
  readonly longRangePairs: readonly LongRangePair[];
  readonly timings: InspectionTimings;
  /** One-line notes for the user (e.g. "Inspected the first 2048 of 3100 tokens."). */
  readonly notes: readonly string[];
  /** The 10 most likely next tokens at the last position, most likely first (when the graph gives logits). */
  readonly next?: readonly NextToken[];
}

/** Where the inspected text came from, so the panel can link back to the editor. */
export interface SourceInfo {
  readonly label: string;
  readonly uri?: string;
  /** Offset of the inspected text in the document (UTF-16 code units). */
  readonly offset: number;
}

/** The cost model's figures a summary carries (src/cost/costModel.ts's CostFigures extends them); null where
 * the target's architecture (or price) is not public. */
export interface CostSummaryFigures {
  readonly contextWindow: number;
  /** tokens / contextWindow (1 = full; above 1 = over). */
  readonly contextShare: number;
  readonly attentionScores: number | null;
  readonly attentionScoresCausal: number | null;
  readonly attentionFlops: number | null;
  readonly linearFlops: number | null;
  readonly kvCacheBytes: number | null;
  /** In the preset's currency unit (US dollars for the built-ins). */
  readonly price: number | null;
}

/** Context-cost figures for one target. */
export interface CostSummary extends CostSummaryFigures {
  readonly target: string;
  readonly targetName: string;
  readonly tokens: number;
  readonly warnings: readonly string[];
  /** false when the count comes from the closest public tokenizer (Claude, Gemini): shown with "≈". */
  readonly exact?: boolean;
  /** The target's tokenizer, e.g. "Llama 3 BPE, 128k". */
  readonly tokenizer?: string;
  /**
   * The target's tokens per section of the text, the sections of the CodeLens and of the panel's Sections card
   * (coverSections in shared/promptSections.ts), in order: the counts the editor's CodeLens show.
   */
  readonly sections?: readonly SectionCount[];
}

export interface SectionCount {
  readonly start: number;
  readonly end: number;
  readonly tokens: number;
}

/** What the engine knows when tokenizing is done: the model and the tokens of the inspected text. */
export interface InspectionHeader {
  readonly requestId: number;
  readonly model: ModelSummary;
  readonly text: string;
  readonly tokens: readonly TokenInfo[];
}

/** A complete inspection, as exports and the HTML report carry it (the fold of its events). */
export interface InspectionResult extends InspectionHeader {
  readonly source: SourceInfo;
  readonly cost?: CostSummary;
  readonly layers: readonly LayerAttention[];
  readonly summary: InspectionSummary;
}

// ---- The inspection event stream: engine → worker → host → webview, unchanged at every crossing -----

/** Whether a fallback is worth a warning: only when the user asked for a GPU provider by name. */
export function fallbackIsWarning(model: Pick<ModelSummary, 'fallbackReason' | 'requestedProvider'>): boolean {
  return (
    model.fallbackReason !== undefined &&
    model.requestedProvider !== undefined &&
    model.requestedProvider !== 'auto' &&
    model.requestedProvider !== 'cpu'
  );
}

/** Every kind of inspection event; the union and its guards below are derived from this list. */
export const INSPECTION_EVENT_KINDS = ['progress', 'header', 'layer', 'summary', 'cost', 'source', 'error'] as const;
export type InspectionEventKind = (typeof INSPECTION_EVENT_KINDS)[number];

export const PROGRESS_STAGES = ['download', 'load', 'prepare', 'tokenize', 'run', 'layers'] as const;
export type ProgressStage = (typeof PROGRESS_STAGES)[number];

/** The payload of each kind; a new kind is one entry here and one name in INSPECTION_EVENT_KINDS. */
interface EventPayloads {
  readonly progress: {
    readonly stage: ProgressStage;
    /** 0..1 when known. */
    readonly fraction?: number;
    /** The model being downloaded or loaded (the setting or its id). */
    readonly model?: string;
    /** download: the file, bytes so far and in all (when known). */
    readonly file?: string;
    readonly loadedBytes?: number;
    readonly totalBytes?: number;
    /** run: tokens in the window; layers: layers done and in all. */
    readonly tokens?: number;
    readonly layer?: number;
    readonly layers?: number;
  };
  readonly header: { readonly header: InspectionHeader };
  readonly layer: { readonly layer: LayerAttention };
  readonly summary: { readonly summary: InspectionSummary };
  /** Added by the host (it knows the editor); may come before or after the header. */
  readonly source: { readonly source: SourceInfo };
  /** Added by the host when the target's counts are ready; never holds up the layers. */
  readonly cost: { readonly cost: CostSummary };
  /** One line for the user; `detail` (a stack) goes to the log only. The inspection is over. */
  readonly error: { readonly message: string; readonly detail?: string };
}

type EventOf<K extends InspectionEventKind> = { readonly kind: K; readonly requestId: number } & EventPayloads[K];

export type InspectionEvent = { readonly [K in InspectionEventKind]: EventOf<K> }[InspectionEventKind];
export type InspectionEventOf<K extends InspectionEventKind> = Extract<InspectionEvent, { readonly kind: K }>;
export type ProgressEvent = InspectionEventOf<'progress'>;
/** A progress event before the worker knows which request it belongs to. */
export type ProgressUpdate = Omit<ProgressEvent, 'kind' | 'requestId'>;
/** Whoever consumes the stream: the worker's port, the host, the CLI, a test. */
export type InspectionEventSink = (event: InspectionEvent) => void;

const eventKinds: ReadonlySet<string> = new Set(INSPECTION_EVENT_KINDS);

export function isInspectionEvent(value: unknown): value is InspectionEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { kind?: unknown; requestId?: unknown };
  return typeof v.kind === 'string' && eventKinds.has(v.kind) && typeof v.requestId === 'number';
}

/** The buffers of an event, moved (not copied) across a thread or webview boundary. */
export function eventTransferList(event: InspectionEvent): ArrayBuffer[] {
  if (event.kind !== 'layer') return [];
  const l = event.layer;
  const arrays = [
    l.heads.weights,
    l.heads.rowScale,
    l.heads.indices,
    l.rollout.weights,
    l.rollout.rowScale,
    l.rollout.indices,
    l.received,
    l.valueNorms,
    l.tiles?.data,
  ];
  const buffers = new Set<ArrayBuffer>();
  for (const array of arrays) if (array && array.buffer instanceof ArrayBuffer) buffers.add(array.buffer);
  return [...buffers];
}

/** For an exhaustive switch: the compiler flags a kind that no case handles. */
export function assertNever(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

// ---- Host → webview: the events, plus panel notices and replies -----------------------------------

export type PanelNotice =
  /** The inspected text changed in the editor since the run. */
  | { readonly kind: 'stale'; readonly stale: boolean }
  /** The editor cursor moved onto a token. */
  | { readonly kind: 'focus-token'; readonly index: number | null };

/** The answer to a webview request (export, rerun), matched by its requestId. */
export interface ReplyMessage {
  readonly kind: 'reply';
  readonly inReplyTo: number;
  /** 'dismissed': the user closed the save dialog. */
  readonly outcome: 'done' | 'failed' | 'dismissed';
  /** A path that was written, or the one-line reason it failed. */
  readonly message?: string;
}

/** One answer token as it is generated, with its attention rows (per layer, heads × keys, transferred). */
export interface AnswerTokenRows {
  readonly index: number;
  readonly id: number;
  /** What the token adds to the answer's text, at [start, end) of the text so far. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly keys: number;
  readonly rows: readonly Float32Array[];
  /** Per layer, the token's attention rollout over the same keys (Abnar & Zuidema: Â = ½M + ½I, chained). */
  readonly rollout?: readonly Float32Array[];
  /** Per layer, its rows weighted by value norm (α_j·‖v_j W_O^h‖, renormalized), where the graph allows. */
  readonly valueNorm?: readonly Float32Array[];
}

/**
 * The answer strip: the answer the model writes after the inspected prompt, streamed token by token. Each
 * token brings its attention rows (per layer, heads × keys over the prompt and the answer up to it).
 */
export type AnswerMessage =
  | {
      readonly kind: 'answer';
      readonly requestId: number;
      readonly event: 'start';
      readonly maxTokens: number;
      /** The answer is the text's own (after `---answer---`), read rather than generated. */
      readonly given?: boolean;
      /** A given answer read from this file (its URI) rather than from the inspected text. */
      readonly file?: string;
      /** A generated answer's sampling, so the panel can ask for the same answer after a window reload. */
      readonly temperature?: number;
      readonly seed?: number;
    }
  | {
      readonly kind: 'answer';
      readonly requestId: number;
      readonly event: 'token';
      readonly token: AnswerTokenRows;
    }
  /** Attributing a selected span of the answer to the prompt's sections: a numbered step. */
  | { readonly kind: 'answer'; readonly requestId: number; readonly event: 'attributing'; readonly message: string }
  /** The span's attribution: per prompt section (by its start), what the span owes it; or why it failed. */
  | {
      readonly kind: 'answer';
      readonly requestId: number;
      readonly event: 'attribution';
      readonly span: { readonly start: number; readonly end: number; readonly text: string };
      readonly sections: readonly {
        readonly start: number;
        readonly logProbDelta: number;
        /** The effect in words ("the answer becomes 3.20 nats (24×) less likely without it"). */
        readonly words: string;
        readonly disagreement: string | null;
      }[];
      /** The faithfulness check's verdict and the model, in words. */
      readonly verdict: string;
      readonly passed: boolean;
    }
  | {
      readonly kind: 'answer';
      readonly requestId: number;
      readonly event: 'attribution-failed';
      readonly error: string;
    }
  /** The answer is over: complete, stopped by the user, or failed (`error`, one line). */
  | {
      readonly kind: 'answer';
      readonly requestId: number;
      readonly event: 'end';
      readonly stopped?: boolean;
      readonly error?: string;
    };

export const HOST_MESSAGE_KINDS = [
  ...INSPECTION_EVENT_KINDS,
  'stale',
  'focus-token',
  'reply',
  'answer',
  'attention-row',
  'rollout-rows',
  'rollout-progress',
] as const;
export type HostMessage =
  | InspectionEvent
  | PanelNotice
  | ReplyMessage
  | AnswerMessage
  | AttentionRowReply
  | RolloutRowsReply
  | RolloutRowsProgress;

const hostKinds: ReadonlySet<string> = new Set(HOST_MESSAGE_KINDS);

export function isHostMessage(value: unknown): value is HostMessage {
  return typeof value === 'object' && value !== null && hostKinds.has(String((value as { kind?: unknown }).kind));
}

// ---- Webview → host -------------------------------------------------------------------------------

export type ExportKind = 'png' | 'json' | 'html';

export interface AttendedToken {
  readonly index: number;
  readonly weight: number;
}

export type WebviewToHostMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'cancel' }
  /** Answered by a reply once the new run has started (or could not). */
  | { readonly type: 'rerun'; readonly requestId: number }
  /**
   * The focused token and the tokens it attends to (or that attend to it), for editor decorations.
   * `reveal`: scroll the editor to the token (a click or the keyboard); absent or false for a hover or a
   * focus that the editor cursor caused.
   */
  | {
      readonly type: 'focus';
      readonly index: number | null;
      readonly attended: readonly AttendedToken[];
      readonly reveal?: boolean;
    }
  /** The model continues the inspected prompt by at most maxTokens tokens (the answer strip). */
  | { readonly type: 'generate'; readonly maxTokens: number; readonly temperature: number; readonly seed: number }
  | { readonly type: 'stop-generation' }
  /** Read the inspected text's own answer (after its `---answer---` line) into the strip. */
  | { readonly type: 'read-answer' }
  /** Attribute the answer's characters start..end to the prompt's sections (a selection in the strip). */
  | { readonly type: 'attribute-span'; readonly start: number; readonly end: number }
  /** PNG comes as a data: URL from the canvas; json and html are built by the host from its result. */
  | { readonly type: 'export'; readonly requestId: number; readonly kind: ExportKind; readonly pngDataUrl?: string }
  /** A banner's or a note's action button: the host runs the matching VS Code command. */
  | { readonly type: 'command'; readonly command: PanelCommand }
  /** One exact attention row, answered by an AttentionRowReply (attentionRowRequest.ts). */
  | AttentionRowRequest
  /** Rollout rows computed in the background, answered by progress and a RolloutRowsReply (rolloutRowsRequest.ts). */
  | RolloutRowsRequest;

/**
 * What a panel button may ask the host to do: choose-model runs promptAttention.chooseModel, open-settings opens
 * the extension's settings, inspect-around inspects the model's context centred on the editor's cursor,
 * answer-from-file runs promptAttention.answerFromFile (pick a file whose text the strip reads as the answer).
 */
export const PANEL_COMMANDS = ['choose-model', 'open-settings', 'inspect-around', 'answer-from-file'] as const;
export type PanelCommand = (typeof PANEL_COMMANDS)[number];

/** Every webview message type; shared/webviewMessages.ts validates each one field by field. */
export const WEBVIEW_MESSAGE_TYPES = [
  'ready',
  'cancel',
  'rerun',
  'focus',
  'export',
  'generate',
  'stop-generation',
  'read-answer',
  'attribute-span',
  'command',
  'attention-row',
  'rollout-rows',
] as const satisfies readonly WebviewToHostMessage['type'][];
