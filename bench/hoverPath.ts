// The worker's side of a hover, timed as the bench's longctx.hoverP95Ms key: an attention-row request sent
// through a MessageHandler over a MessageChannel (as host → worker), answered by the worker's own
// answerAttentionRow (worker/rowAnswer.ts: the row kernel over the kept Q and K) with the weights transferred,
// and the reply received. One process: the thread hop itself is left out (a few tens of µs).
import { MessageChannel } from 'node:worker_threads';
import type { AttentionRowReply } from '../src/shared/attentionRowRequest';
import { rowReplyTransferList } from '../src/shared/attentionRowRequest';
import type { ExactRowSource } from '../src/engine/inspectApi';
import { ExactRows, sharedRowKernel } from '../src/engine/benchInternals';
import { MessageHandler, type Envelope } from '../src/shared/requestReply';
import { answerAttentionRow } from '../src/worker/rowAnswer';
import { ATTENTION_ROW } from '../src/worker/workerProtocol';
import { seededRandom } from '../test/helpers/onnxBuilder';
import { REALSIZE_SHAPE } from './realSizeFixture';

export interface HoverPath {
  /** One hover's row as the host gets it. */
  row(layer: number, head: number | null, query: number): Promise<AttentionRowReply>;
  close(): void;
}

export function hoverPath(rows: ExactRowSource): HoverPath {
  const { port1, port2 } = new MessageChannel();
  const kept = { inspection: 1, rows };
  const host = new MessageHandler((m: Envelope, transfer?: ArrayBuffer[]) => port1.postMessage(m, transfer ?? []));
  const worker = new MessageHandler((m: Envelope, transfer?: ArrayBuffer[]) => port2.postMessage(m, transfer ?? []));
  worker.serve(ATTENTION_ROW, async (request, served) => {
    const reply = await answerAttentionRow(kept, request);
    served.transferWithReply(rowReplyTransferList(reply));
    return reply;
  });
  port1.on('message', (m: Envelope) => host.handle(m));
  port2.on('message', (m: Envelope) => worker.handle(m));
  let requestId = 0;
  return {
    async row(layer, head, query) {
      const request = { type: 'attention-row', requestId: ++requestId, inspection: 1, layer, head, query } as const;
      const reply = await host.request(ATTENTION_ROW, request).reply;
      if (!reply.weights) throw new Error(`the row was refused: ${reply.error ?? 'no weights'}`);
      return reply;
    },
    close() {
      port1.close();
      port2.close();
    },
  };
}

/**
 * Kept Q and K of the 0.5B shape at `n` tokens, random, in the dtype the engine keeps them in (fp16), with
 * the engine's row kernel: what the worker holds after an inspection, without running one (the products do
 * not depend on the values).
 */
export function shapeRows(n: number, kernel = true): ExactRows {
  const s = REALSIZE_SHAPE;
  const d = s.hidden / s.heads;
  const random = seededRandom(1);
  const layers = Array.from({ length: s.layers }, () => {
    const q = new Uint16Array(s.heads * n * d);
    for (let i = 0; i < q.length; i++) q[i] = 0x3c00 ^ (Math.floor(random() * 0x3ff) & 0x3ff);
    const k = new Uint16Array(s.kvHeads * n * d);
    for (let i = 0; i < k.length; i++)
      k[i] = (random() < 0.5 ? 0x3800 : 0xb800) ^ (Math.floor(random() * 0x3ff) & 0x3ff);
    return { q, k, heads: s.heads, kvHeads: s.kvHeads, headDim: d, scale: 1 / Math.sqrt(d) };
  });
  return new ExactRows(
    n,
    layers.map((l) => ({ ...l, slidingWindow: null, softcap: null })),
    kernel ? sharedRowKernel() : null,
  );
}

/** `count` hovers as the bench times them (late tokens, a random layer, the head mean or one head): ms each. */
export async function timeHovers(rows: ExactRows, count: number): Promise<number[]> {
  await rows.ready();
  const path = hoverPath(rows);
  try {
    const random = seededRandom(5);
    const n = rows.n;
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const layer = Math.floor(random() * rows.layerCount);
      const head = random() < 0.5 ? null : Math.floor(random() * rows.heads(layer));
      const query = n - 1 - Math.floor(random() * (n / 4));
      const t = performance.now();
      await path.row(layer, head, query);
      times.push(performance.now() - t);
    }
    return times;
  } finally {
    path.close();
  }
}
