// The worker's answer to an attention-row request (what a hover costs on the engine thread): the row from the
// kept Q and K of the inspection it names, through the engine's row kernel where it has one, and the weights'
// buffer to transfer with the reply. Its own module so the bench times exactly this path.
import type { AttentionRowReply, AttentionRowRequest } from '../shared/attentionRowRequest';
import { rowUnavailable } from '../shared/attentionRowRequest';
import { firstLine } from '../shared/errorText';
import type { ExactRowSource } from '../engine/inspectApi';

/** What the worker keeps after a finished run: the inspection's id and its rows. */
export interface KeptRows {
  readonly inspection: number;
  readonly rows: ExactRowSource;
}

/** Answered at once, between the steps of a running request: a row is one small product over the kept Q and K
 * (onnxruntime's row kernel where the engine has one: about a millisecond for a head mean at 8,192 tokens). */
export async function answerAttentionRow(
  kept: KeptRows | null,
  request: AttentionRowRequest,
): Promise<AttentionRowReply> {
  if (!kept || kept.inspection !== request.inspection) return rowUnavailable(request);
  const { requestId, inspection, layer, head, query } = request;
  const base = { kind: 'attention-row', inReplyTo: requestId, inspection, layer, head, query } as const;
  try {
    const weights = kept.rows.rowAsync
      ? await kept.rows.rowAsync(layer, head, query)
      : kept.rows.row(layer, head, query);
    return { ...base, weights };
  } catch (error) {
    return { ...base, error: firstLine(error) };
  }
}
