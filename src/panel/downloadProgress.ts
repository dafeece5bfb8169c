// A VS Code progress notification for Hub downloads, showing bytes; closed when the download stage ends.
import * as vscode from 'vscode';
import { progressText } from '../shared/progressText';
import type { ProgressUpdate } from '../shared/protocol';

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export class DownloadProgress {
  private report: ((message: string, increment?: number) => void) | undefined;
  private close: (() => void) | undefined;
  private lastFraction = 0;

  update(progress: ProgressUpdate): void {
    if (progress.stage !== 'download') {
      this.end();
      return;
    }
    if (!this.report) this.open();
    const bytes = progress.loadedBytes !== undefined ? `${mb(progress.loadedBytes)}${progress.totalBytes ? ` of ${mb(progress.totalBytes)}` : ''}` : '';
    const fraction = progress.fraction ?? (progress.loadedBytes !== undefined && progress.totalBytes ? progress.loadedBytes / progress.totalBytes : undefined);
    const increment = fraction !== undefined ? Math.max(0, (fraction - this.lastFraction) * 100) : undefined;
    if (fraction !== undefined) this.lastFraction = fraction;
    this.report?.([progressText(progress), bytes].filter(Boolean).join(' · '), increment);
  }

  end(): void {
    this.close?.();
    this.report = undefined;
    this.close = undefined;
    this.lastFraction = 0;
  }

  private open(): void {
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Prompt Attention: downloading the model' }, (progress) =>
      new Promise<void>((resolve) => {
        this.report = (message, increment) => progress.report({ message, increment });
        this.close = resolve;
      }),
    );
  }
}
