// The tokenizer worker: loads the target tokenizers (the Llama 3 and Qwen merge tables take over a second to
// build) and counts each prompt document off the extension host's thread. It keeps one IncrementalCounter per
// document, so a keystroke re-tokenizes one chunk, and returns the chunk counts and the diagnostics. It also
// keeps each document's text, so the host sends a keystroke as an edit, and computes the section CodeLens, so
// the host only places them.
import { parentPort, workerData } from 'node:worker_threads';
import { coverSections } from '../shared/promptSections';
import { computeCostDiagnostics, computeSectionLenses } from './editorModels';
import { IncrementalCounter } from './incrementalCounter';
import type { TokenizerId } from './presets';
import { applyEdit, type TextEdit } from './textEdit';
import { chatOverheadTokens, loadTokenCounter } from './tokenCounters';
import type { HostToTokenizerWorker, TokenizerWorkerConfig, TokenizerWorkerToHost } from './tokenizerWorkerProtocol';

const config = workerData as TokenizerWorkerConfig;
const counters = new Map<string, { readonly tokenizer: TokenizerId; readonly counter: IncrementalCounter }>();
/** Each document's text and the request that brought it. */
const texts = new Map<string, { readonly text: string; readonly requestId: number }>();
const port = parentPort;

function post(message: TokenizerWorkerToHost, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

async function count(message: Extract<HostToTokenizerWorker, { type: 'count' }>): Promise<void> {
  const { requestId, document, change, preset, options } = message;
  let text: string;
  let edit: { readonly from: string; readonly edit: TextEdit } | undefined;
  if ('text' in change) text = change.text;
  else {
    const base = texts.get(document);
    if (base?.requestId !== change.baseRequestId) {
      texts.delete(document);
      post({ type: 'failed', requestId, message: 'the worker does not hold the edited text', stale: true });
      return;
    }
    text = applyEdit(base.text, change.edit);
    edit = { from: base.text, edit: change.edit };
  }
  texts.set(document, { text, requestId });
  try {
    const counter = await loadTokenCounter(preset.tokenizer, { assetsDir: config.assetsDir });
    let state = counters.get(document);
    if (!state || state.tokenizer !== preset.tokenizer) {
      state = { tokenizer: preset.tokenizer, counter: new IncrementalCounter(counter) };
      counters.set(document, state);
    }
    const snapshot = state.counter.update(text, edit);
    const chatOverhead = chatOverheadTokens(preset, counter);
    const diagnostics = computeCostDiagnostics(snapshot, counter, preset, options, chatOverhead);
    const lenses = message.lenses ? computeSectionLenses(snapshot, coverSections(text)) : [];
    const chunks = new Float64Array(snapshot.chunks.length * 4);
    snapshot.chunks.forEach((chunk, i) => {
      chunks[i * 4] = chunk.start;
      chunks[i * 4 + 1] = chunk.end;
      chunks[i * 4 + 2] = chunk.tokens;
      chunks[i * 4 + 3] = chunk.before;
    });
    post(
      {
        type: 'counted',
        requestId,
        total: snapshot.total,
        tokenizedChunks: snapshot.tokenizedChunks,
        chunks,
        chatOverhead,
        diagnostics,
        lenses,
      },
      [chunks.buffer as ArrayBuffer],
    );
  } catch (error) {
    post({ type: 'failed', requestId, message: (error as Error).message.split('\n')[0] });
  }
}

// Requests run one after another, in order: each document's counter sees its texts in edit order.
let queue: Promise<void> = Promise.resolve();
port?.on('message', (message: HostToTokenizerWorker) => {
  if (message.type === 'forget') {
    queue = queue.then(() => {
      counters.delete(message.document);
      texts.delete(message.document);
    });
    return;
  }
  queue = queue.then(() => count(message));
});
