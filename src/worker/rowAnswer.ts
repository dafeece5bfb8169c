// The worker's answer to an attention-row request (what a hover costs on the engine thread): the row from the
// kept Q and K of the inspection it names, through the engine's row kernel where it has one, and the weights'
// buffer to transfer with the reply. Its own module so the bench times exactly this path. Also the answer to a
// rollout-rows request (rows computed in the background, progress per layer).
import type { AttentionRowReply, AttentionRowRequest } from '../shared/attentionRowRequest';
import { rowUnavailable } from '../shared/attentionRowRequest';
import type { RolloutRowsProgress, RolloutRowsReply, RolloutRowsRequest } from '../shared/rolloutRowsRequest';
import { rolloutUnavailable } from '../shared/rolloutRowsRequest';
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

/**
 * Rollout rows in the background: the work yields to the event loop at every block (each is an onnxruntime run),
 * so attention rows and other requests are served between them. `isStopped` is checked between blocks (the
 * request cancelled or superseded, or the kept Q and K replaced): the reply then says so (a cancelled request's
 * reply is not sent).
 */
export async function answerRolloutRows(
  kept: KeptRows | null,
  request: RolloutRowsRequest,
  onProgress: (progress: RolloutRowsProgress) => void,
  isStopped: () => boolean,
): Promise<RolloutRowsReply> {
  if (!kept || kept.inspection !== request.inspection) return rolloutUnavailable(request);
  const { requestId, inspection, layer, queries } = request;
  const base = { kind: 'rollout-rows', inReplyTo: requestId, inspection, layer, queries } as const;
  if (!kept.rows.rolloutRows) return { ...base, error: 'This engine cannot compute rollout rows on demand.' };
  try {
    const rows = await kept.rows.rolloutRows(layer, queries, {
      isCancelled: isStopped,
      onProgress: ({ done, of }) =>
        onProgress({ kind: 'rollout-progress', inReplyTo: requestId, inspection, layer, done, of }),
    });
    return rows ? { ...base, rows } : { ...base, error: 'Stopped: a newer request or inspection replaced it.' };
  } catch (error) {
    return { ...base, error: firstLine(error) };
  }
}
