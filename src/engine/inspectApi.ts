// The contract between whoever asks for an inspection (panel host, CLI, bench) and the engine/worker
// that answers it. No `vscode` import.
import type {
  ExecutionProviderSetting,
  InspectionHeader,
  InspectionSummary,
  LayerAttention,
} from '../shared/protocol';

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
}

/** Header as the engine knows it; the host adds `source` and `cost` before it reaches the panel. */
export type EngineHeader = Omit<InspectionHeader, 'source' | 'cost'>;

export interface InspectProgress {
  readonly stage: 'download' | 'load' | 'tokenize' | 'run' | 'layers';
  readonly message: string;
  /** 0..1 when known. */
  readonly fraction?: number;
  /** For downloads: bytes so far and in all, when known. */
  readonly loadedBytes?: number;
  readonly totalBytes?: number;
}

export interface InspectListener {
  onProgress(progress: InspectProgress): void;
  onStart(header: EngineHeader): void;
  onLayer(layer: LayerAttention): void;
  onDone(summary: InspectionSummary): void;
  /** One line, user-facing; the inspection is over after this. */
  onError(message: string): void;
}

export interface InspectHandle {
  cancel(): void;
  /** Settles after onDone, onError or cancellation. */
  readonly finished: Promise<void>;
}
