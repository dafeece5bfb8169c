// Runs an attribution or a section diff in the inspector's worker under a cancellable progress notification
// with numbered steps ("Ablation 5 of 12"); a failure's stack goes to the log, the user sees one line.
import * as vscode from 'vscode';
import type { ExplainEvent } from '../shared/explainReport';
import type { Log } from '../shared/log';
import { progressText } from '../shared/progressText';
import { RequestFailed } from '../shared/requestReply';
import type { ExplainHandle } from '../worker/inspectorWorker';

/** The result, or null when the user cancelled. */
export async function runExplainWithProgress<T>(
  title: string,
  start: (onEvent: (event: ExplainEvent) => void) => ExplainHandle<T>,
  log: Log,
  /** Each numbered step's line, also shown elsewhere (the panel's answer strip). */
  onStep?: (message: string) => void,
): Promise<{ readonly value: T } | null> {
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      let last = 0;
      const handle = start((event) => {
        if (event.kind === 'load') {
          progress.report({ message: progressText(event.progress) });
          return;
        }
        const fraction = event.total > 0 ? event.done / event.total : 0;
        progress.report({ message: event.message, increment: Math.max(0, fraction * 100 - last) });
        onStep?.(event.message);
        last = Math.max(last, fraction * 100);
      });
      const cancel = token.onCancellationRequested(() => handle.cancel());
      try {
        return { value: await handle.result };
      } catch (error) {
        if (error instanceof RequestFailed && error.cancelled) return null;
        log.error(
          `${title}: ${error instanceof Error ? error.message : String(error)}`,
          error instanceof RequestFailed && error.detail ? error.detail : error,
        );
        throw error;
      } finally {
        cancel.dispose();
      }
    },
  );
}
