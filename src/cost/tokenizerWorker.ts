// The tokenizer worker: loads the target tokenizers (the Llama 3 and Qwen merge tables take over a second to
// build) and counts each prompt document off the extension host's thread. It keeps one IncrementalCounter per
// document, so a keystroke re-tokenizes one chunk, and returns the chunk counts and the diagnostics. It also
// keeps each document's text, so the host sends a keystroke as an edit, and computes the section CodeLens, so
// the host only places them (with a section memo per document: a keystroke parses again only the regions it
// touched).
import { parentPort, workerData } from 'node:worker_threads';
import { coverSections, splitPromptSections } from '../shared/promptSections';
import { SectionMemo } from '../shared/sectionMemo';
import { computeCostDiagnostics, computeSectionLenses, type SectionLens } from './editorModels';
import { IncrementalCounter } from './incrementalCounter';
import type { TokenizerId } from './presets';
import { applyEdit, type TextEdit } from './textEdit';
import { chatOverheadTokens, loadTokenCounter } from './tokenCounters';
import { MessageHandler, type Envelope } from '../shared/requestReply';
import {
  COUNT,
  FORGET,
  type CountParams,
  type CountReply,
  type TokenizerWorkerConfig,
} from './tokenizerWorkerProtocol';

const config = workerData as TokenizerWorkerConfig;
const counters = new Map<string, { readonly tokenizer: TokenizerId; readonly counter: IncrementalCounter }>();
/** Each document's parsed regions, so a keystroke sections again only what it changed. */
const sectionMemos = new Map<string, SectionMemo>();
/** Each document's text and the request that brought it. */
const texts = new Map<string, { readonly text: string; readonly requestId: number }>();
const port = parentPort;

const handler = new MessageHandler((message: Envelope, transfer?: ArrayBuffer[]) =>
  port?.postMessage(message, transfer ?? []),
);
async function count(
  params: CountParams & { readonly requestId: number },
  transfer: (buffers: ArrayBuffer[]) => void,
): Promise<CountReply> {
  const { requestId, document, change, preset, options } = params;
  let text: string;
  let edit: { readonly from: string; readonly edit: TextEdit } | undefined;
  if ('text' in change) text = change.text;
  else {
    const base = texts.get(document);
    if (base?.requestId !== change.baseRequestId) {
      texts.delete(document);
      return { stale: true };
    }
    text = applyEdit(base.text, change.edit);
    edit = { from: base.text, edit: change.edit };
  }
  texts.set(document, { text, requestId });
  const counter = await loadTokenCounter(preset.tokenizer, { assetsDir: config.assetsDir });
  let state = counters.get(document);
  if (!state || state.tokenizer !== preset.tokenizer) {
    state = { tokenizer: preset.tokenizer, counter: new IncrementalCounter(counter) };
    counters.set(document, state);
  }
  const snapshot = state.counter.update(text, edit);
  const chatOverhead = chatOverheadTokens(preset, counter);
  const diagnostics = computeCostDiagnostics(snapshot, counter, preset, options, chatOverhead);
  let lenses: SectionLens[] = [];
  if (params.lenses) {
    let memo = sectionMemos.get(document);
    if (!memo) sectionMemos.set(document, (memo = new SectionMemo()));
    lenses = computeSectionLenses(snapshot, coverSections(text, splitPromptSections(text, memo)));
  }
  const chunks = new Float64Array(snapshot.chunks.length * 4);
  snapshot.chunks.forEach((chunk, i) => {
    chunks[i * 4] = chunk.start;
    chunks[i * 4 + 1] = chunk.end;
    chunks[i * 4 + 2] = chunk.tokens;
    chunks[i * 4 + 3] = chunk.before;
  });
  transfer([chunks.buffer as ArrayBuffer]);
  return {
    total: snapshot.total,
    tokenizedChunks: snapshot.tokenizedChunks,
    chunks,
    chatOverhead,
    diagnostics,
    lenses,
  };
}

// Requests run one after another, in order: each document's counter sees its texts in edit order.
let queue: Promise<unknown> = Promise.resolve();
function enqueue<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work);
  queue = run.catch(() => undefined);
  return run;
}

handler.serve(COUNT, (params, served) => enqueue(() => count(params, (buffers) => served.transferWithReply(buffers))));
handler.serve(FORGET, ({ document }) =>
  enqueue(async () => {
    counters.delete(document);
    texts.delete(document);
    sectionMemos.delete(document);
    return null;
  }),
);
port?.on('message', (message: unknown) => handler.handle(message));
