// The one protocol module: the inspection result's shape and the typed messages between the extension
// host and the webview. Imported by the host, the worker, the CLI and the webview; no `vscode` import.

/** One token with its [start, end) UTF-16 span in the inspected text; text === input.slice(start, end). */
export interface TokenInfo {
  readonly id: number;
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** True for tokens the tokenizer added (BOS); they have an empty span at 0. */
  readonly special?: boolean;
}

export type ExecutionProviderName = 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml';
export type ExecutionProviderSetting = 'auto' | ExecutionProviderName;

export type HeadRole = 'previous-token' | 'sink' | 'induction' | 'local' | 'broad';

/** Scores in [0, 1]; role is the strongest one (see engine/headRoles.ts for definitions). */
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
  readonly card?: ModelCardSummary;
}

/**
 * Attention rows in a compact form. A row is one query's weights over keys.
 * - 'dense-u8': k === n, weights[r * n + key].
 * - 'topk-u8': the k strongest keys of each row, strongest first, indices[r * k + j]; 0xffff pads short rows.
 * A weight is weights[..] / 255 * rowScale[r] (rowScale is the row's maximum weight).
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
}

/** Where the inspected text came from, so the panel can link back to the editor. */
export interface SourceInfo {
  readonly label: string;
  readonly uri?: string;
  /** Offset of the inspected text in the document (UTF-16 code units). */
  readonly offset: number;
}

/** Context-cost figures for one target (issue 6); null where the target's architecture is not public. */
export interface CostSummary {
  readonly target: string;
  readonly targetName: string;
  readonly tokens: number;
  readonly contextWindow: number;
  readonly contextShare: number;
  readonly attentionScores: number | null;
  readonly attentionScoresCausal: number | null;
  readonly attentionFlops: number | null;
  readonly linearFlops: number | null;
  readonly kvCacheBytes: number | null;
  readonly price: number | null;
  readonly warnings: readonly string[];
}

export interface InspectionHeader {
  readonly requestId: number;
  readonly model: ModelSummary;
  readonly text: string;
  readonly tokens: readonly TokenInfo[];
  readonly source: SourceInfo;
  readonly cost?: CostSummary;
}

/** A complete inspection, as the CLI writes it into an HTML report. */
export interface InspectionResult extends InspectionHeader {
  readonly layers: readonly LayerAttention[];
  readonly summary: InspectionSummary;
}

// ---- Host → webview -------------------------------------------------------------------------------

export type HostToWebviewMessage =
  | { readonly type: 'progress'; readonly requestId: number; readonly stage: string; readonly fraction?: number }
  | { readonly type: 'inspection-start'; readonly header: InspectionHeader }
  | { readonly type: 'inspection-layer'; readonly requestId: number; readonly layer: LayerAttention }
  | { readonly type: 'inspection-done'; readonly requestId: number; readonly summary: InspectionSummary }
  | { readonly type: 'inspection-error'; readonly requestId: number; readonly message: string }
  | { readonly type: 'stale'; readonly stale: boolean }
  | { readonly type: 'focus-token'; readonly index: number | null }
  | { readonly type: 'export-done'; readonly kind: ExportKind; readonly ok: boolean; readonly message?: string };

// ---- Webview → host -------------------------------------------------------------------------------

export type ExportKind = 'png' | 'json' | 'html';

export interface AttendedToken {
  readonly index: number;
  readonly weight: number;
}

export type WebviewToHostMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'cancel' }
  | { readonly type: 'rerun' }
  /**
   * The focused token and the tokens it attends to (or that attend to it), for editor decorations.
   * `reveal`: scroll the editor to the token (a click or the keyboard); absent or false for a hover or a
   * focus that the editor cursor caused.
   */
  | { readonly type: 'focus'; readonly index: number | null; readonly attended: readonly AttendedToken[]; readonly reveal?: boolean }
  /** PNG comes as a data: URL from the canvas; json and html are built by the host from its result. */
  | { readonly type: 'export'; readonly kind: ExportKind; readonly pngDataUrl?: string };

export function isWebviewToHostMessage(value: unknown): value is WebviewToHostMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'ready' || type === 'cancel' || type === 'rerun' || type === 'focus' || type === 'export';
}
