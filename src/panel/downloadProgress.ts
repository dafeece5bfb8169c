// A VS Code progress notification for Hub downloads: the file, bytes so far and in all, the speed and the
// time left; its Cancel button stops the download (what is on disk resumes next time). Closed when the
// download stage ends.
import * as vscode from 'vscode';
import { DownloadRate, downloadLine } from '../shared/downloadRate';
import { progressText } from '../shared/progressText';
import type { ProgressUpdate } from '../shared/protocol';

export class DownloadProgress {
  private report: ((message: string, increment?: number) => void) | undefined;
  private close: (() => void) | undefined;
  private lastFraction = 0;
  private readonly rate = new DownloadRate();

  /** `onCancel` runs when the user cancels the notification. */
  constructor(private readonly onCancel: () => void = () => undefined) {}

  update(progress: ProgressUpdate): void {
    if (progress.stage !== 'download') {
      this.end();
      return;
    }
    if (!this.report) this.open();
    let bytes = '';
    if (progress.loadedBytes !== undefined) {
      this.rate.add(progress.loadedBytes);
      bytes = downloadLine(progress.loadedBytes, progress.totalBytes, this.rate);
    }
    const fraction =
      progress.fraction ??
      (progress.loadedBytes !== undefined && progress.totalBytes
        ? progress.loadedBytes / progress.totalBytes
        : undefined);
    const increment = fraction !== undefined ? Math.max(0, (fraction - this.lastFraction) * 100) : undefined;
    if (fraction !== undefined) this.lastFraction = fraction;
    this.report?.([progressText(progress), bytes].filter(Boolean).join(' · '), increment);
  }

  end(): void {
    this.close?.();
    this.report = undefined;
    this.close = undefined;
    this.lastFraction = 0;
    this.rate.reset();
  }

  private open(): void {
    void vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: 'Prompt Attention: downloading the model',
        cancellable: true,
      },
      (progress, token) =>
        new Promise<void>((resolve) => {
          this.report = (message, increment) => progress.report({ message, increment });
          this.close = resolve;
          token?.onCancellationRequested(() => {
            if (this.close !== resolve) return; // an earlier notification, already closed
            this.end();
            this.onCancel();
          });
        }),
    );
  }
}
