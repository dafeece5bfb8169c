// The one sentence for a progress event, shared by the panel banner, the download notification and the
// CLI: the events carry the structured stage, and each view words it here.
import { formatShare } from './format';
import type { ProgressUpdate } from './protocol';

export function progressText(progress: ProgressUpdate): string {
  switch (progress.stage) {
    case 'download':
      return `Downloading ${progress.model ? `${progress.model}: ` : ''}${progress.file ?? 'the model'}`;
    case 'load':
      return progress.model ? `Loading ${progress.model}` : 'Loading the model…';
    case 'prepare':
      return `Preparing the model (once)${progress.fraction !== undefined ? ` ${formatShare(progress.fraction)}` : ''}`;
    case 'tokenize':
      return 'Tokenizing';
    case 'run':
      return `Running ${progress.model ?? 'the model'}${progress.tokens !== undefined ? ` on ${progress.tokens} tokens` : ''}`;
    case 'layers':
      return progress.layer !== undefined && progress.layers !== undefined
        ? `Layer ${progress.layer} of ${progress.layers}`
        : 'Layers';
  }
}
