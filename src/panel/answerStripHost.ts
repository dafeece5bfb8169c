// The host's side of the answer strip: Generate runs the worker's generation on the inspected token ids and
// streams each token to the panel; Stop cancels it between tokens; a span selected in the answer is
// attributed to the prompt's sections by the worker's attribution (ContextCite-style, on that span), with
// numbered progress and the faithfulness check's verdict. No `vscode` import: the controller passes its
// worker, model choice, panel post and log.
import { adviceToleranceNats, faithfulnessWords, modelWords, withoutItWords } from '../shared/attributionWords';
import { joinAnswer, splitAnswer } from '../shared/answerText';
import { firstLine } from '../shared/errorText';
import type { ExplainModelChoice, GenerateReply } from '../shared/explainReport';
import type { Log } from '../shared/log';
import type { AnswerMessage, InspectionHeader, WebviewToHostMessage } from '../shared/protocol';
import { RequestFailed } from '../shared/requestReply';
import type { ExplainHandle, InspectorWorker } from '../worker/inspectorWorker';

export interface AnswerStripTarget {
  /** The inspection the strip belongs to (its header), or null when none finished its header. */
  current(): { readonly requestId: number; readonly header: InspectionHeader } | null;
  explainTarget(): Promise<{ readonly worker: InspectorWorker; readonly choice: ExplainModelChoice }>;
  post(message: AnswerMessage): void;
}

export class AnswerStripHost {
  private generation: ExplainHandle<GenerateReply> | undefined;
  private attribution: ExplainHandle<unknown> | undefined;
  /** What the strip was sent for the current answer (its start, tokens, end, last attribution): a reloaded
   * webview gets it again (replay). */
  private kept: AnswerMessage[] = [];
  /** The answer of the current inspection, as streamed; `prompt`: the text it continues, when given. */
  private answer: { requestId: number; text: string; prompt?: string } | null = null;

  constructor(
    private readonly target: AnswerStripTarget,
    private readonly log: Log,
  ) {}

  async generate(message: Extract<WebviewToHostMessage, { type: 'generate' }>): Promise<void> {
    await this.run(message, null);
  }

  /**
   * The inspected text's own answer (after its `---answer---` line): read after the text before that line, in
   * one pass, its tokens streamed like generated ones. Attributing a span of it attributes to that prompt.
   * With `fromFile`, the answer is that file's text (`file`: its URI), read after the inspected text (after
   * the part before its `---answer---` line, when it has one).
   */
  async readGiven(fromFile?: { readonly file: string; readonly answer: string }): Promise<void> {
    const text = this.target.current()?.header.text ?? '';
    const split = splitAnswer(text);
    const given = fromFile
      ? { prompt: split?.prompt ?? text, answer: fromFile.answer, file: fromFile.file }
      : (split ?? { prompt: '', answer: '' });
    await this.run({ maxTokens: 0, temperature: 0, seed: 1 }, given);
  }

  private async run(
    message: { readonly maxTokens: number; readonly temperature: number; readonly seed: number },
    given: { readonly prompt: string; readonly answer: string; readonly file?: string } | null,
  ): Promise<void> {
    this.stop();
    this.attribution?.cancel();
    const run = this.target.current();
    if (!run) return;
    const { requestId, header } = run;
    const answer = { requestId, text: '', ...(given ? { prompt: given.prompt } : {}) };
    this.answer = answer;
    const post = (m: AnswerMessage): void => this.send(requestId, m);
    post({
      kind: 'answer',
      requestId,
      event: 'start',
      maxTokens: message.maxTokens,
      ...(given
        ? { given: true, ...(given.file !== undefined ? { file: given.file } : {}) }
        : { temperature: message.temperature, seed: message.seed }),
    });
    try {
      if (given && given.answer.trim() === '')
        throw new Error(
          given.file !== undefined
            ? 'The answer file is empty.'
            : 'The inspected text has no answer after a ---answer--- line.',
        );
      const { worker, choice } = await this.target.explainTarget();
      const handle = worker.generate(
        {
          ...choice,
          promptIds: header.tokens.map((t) => t.id),
          maxTokens: message.maxTokens,
          temperature: message.temperature,
          seed: message.seed,
          ...(given ? { given: { prompt: given.prompt, answer: given.answer } } : {}),
        },
        (event) => {
          if (!('rows' in event)) return;
          answer.text = answer.text.slice(0, event.start) + event.text;
          post({ kind: 'answer', requestId, event: 'token', token: event });
        },
      );
      this.generation = handle;
      await handle.result;
      post({ kind: 'answer', requestId, event: 'end' });
    } catch (error) {
      if (error instanceof RequestFailed && error.cancelled) {
        post({ kind: 'answer', requestId, event: 'end', stopped: true });
        return;
      }
      this.log.error(
        given ? 'Reading the given answer failed' : 'Generating the answer failed',
        error instanceof RequestFailed && error.detail ? error.detail : error,
      );
      post({ kind: 'answer', requestId, event: 'end', error: firstLine(error) });
    }
  }

  stop(): void {
    this.generation?.cancel();
    this.generation = undefined;
  }

  /** Attributes the answer's characters start..end (offsets in the strip's text) to the prompt's sections. */
  async attributeSpan(message: Extract<WebviewToHostMessage, { type: 'attribute-span' }>): Promise<void> {
    const run = this.target.current();
    const answer = this.answer;
    if (!run || !answer || answer.requestId !== run.requestId) return;
    this.attribution?.cancel();
    const { requestId, header } = run;
    const post = (m: AnswerMessage): void => this.send(requestId, m);
    const text = answer.text.replace(/\s+$/, '');
    const end = Math.min(message.end, text.length);
    if (message.start >= end) return;
    const prompt = answer.prompt ?? header.text;
    // The attributed answer continues the prompt as joinAnswer joins them: a seam space shifts the offsets.
    const seam = joinAnswer(prompt, text).text.length - prompt.length - text.length;
    try {
      const { worker, choice } = await this.target.explainTarget();
      const handle = worker.attribute(
        {
          ...choice,
          prompt,
          answer: { text },
          span: { start: message.start + seam, end: end + seam },
        },
        (event) => {
          if (event.kind === 'step')
            post({
              kind: 'answer',
              requestId,
              event: 'attributing',
              message: `Attributing the selection: ${event.message}`,
            });
        },
      );
      this.attribution = handle;
      const report = await handle.result;
      const tolerance = adviceToleranceNats(report.answer.logProb);
      post({
        kind: 'answer',
        requestId,
        event: 'attribution',
        span: { start: message.start, end, text: text.slice(message.start, end) },
        sections: report.sections.map((s) => ({
          start: s.start,
          logProbDelta: s.ablation.logProbDelta,
          words: withoutItWords(s.ablation.logProbDelta),
          disagreement:
            s.disagreement ?? (s.ablation.logProbDelta > tolerance ? 'the span is more likely without it' : null),
        })),
        verdict: `${faithfulnessWords(report.faithfulness)} ${modelWords(report.model)}.`,
        passed: report.faithfulness.passed,
      });
    } catch (error) {
      if (error instanceof RequestFailed && error.cancelled) return;
      this.log.error(
        'Attributing the span failed',
        error instanceof RequestFailed && error.detail ? error.detail : error,
      );
      post({ kind: 'answer', requestId, event: 'attribution-failed', error: firstLine(error) });
    }
  }

  /** The messages that bring a reloaded webview's strip back to where it was, for this inspection. */
  replay(requestId: number): AnswerMessage[] {
    return this.kept[0]?.requestId === requestId ? [...this.kept] : [];
  }

  /** Posts to the strip while its inspection is current, keeping what a replay needs (progress aside). */
  private send(requestId: number, message: AnswerMessage): void {
    if (this.target.current()?.requestId !== requestId) return;
    if (message.event === 'start') this.kept = [message];
    else if (message.event === 'attribution' || message.event === 'attribution-failed')
      this.kept = [...this.kept.filter((m) => m.event !== 'attribution' && m.event !== 'attribution-failed'), message];
    else if (message.event !== 'attributing') this.kept.push(message);
    this.target.post(message);
  }

  dispose(): void {
    this.stop();
    this.attribution?.cancel();
  }
}
