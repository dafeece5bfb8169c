// The answer strip's view: a card after the prompt with Generate (at most N tokens, greedy or at a
// temperature) and Stop, a status line, and the answer's tokens laid out like the prompt's (a TokenView), so
// hovering one shows what it read. DOM only: the app owns the state (model/answerStrip.ts).
import { fileLabel, type AnswerState } from '../model/answerStrip';
import { el } from './dom';
import { TokenView } from './tokenView';

export interface AnswerViewEvents {
  generate(maxTokens: number, temperature: number): void;
  /** Read the text's own answer (after its `---answer---` line). */
  readGiven(): void;
  /** Pick a file whose text is read as the answer (the host asks for it). */
  answerFromFile(): void;
  stop(): void;
  hover(index: number | null): void;
  /** A span of the answer was selected: its characters start..end. */
  attributeSpan(start: number, end: number): void;
}

export class AnswerView {
  readonly root: HTMLElement;
  readonly tokens: TokenView;
  private readonly status = el('div', { class: 'answer-status', role: 'status' });
  private readonly generateButton: HTMLElement;
  private readonly stopButton: HTMLElement;
  private readonly givenButton: HTMLElement;
  private readonly fileButton: HTMLElement;
  /** Whether the inspected text has a `---answer---` line (its own answer to read). */
  private hasGiven = false;
  private readonly maxTokens = el('input', {
    type: 'number',
    min: '1',
    max: '4096',
    value: '64',
    'aria-label': 'Tokens to generate at most',
    class: 'answer-max',
  });
  private readonly temperature = el('input', {
    type: 'number',
    min: '0',
    max: '10',
    step: '0.1',
    value: '0',
    'aria-label': 'Temperature (0: greedy)',
    class: 'answer-temperature',
  });
  private drawnTokens = 0;
  private readonly attributionLine = el('div', { class: 'answer-attribution', role: 'status' });
  private shown: AnswerState | null = null;

  constructor(events: AnswerViewEvents, hasHost: boolean) {
    this.tokens = new TokenView({
      hover: (i) => events.hover(i),
      pin: (i) => events.hover(i),
      move: (i) => events.hover(i),
    });
    this.tokens.root.classList.add('answer-tokens');
    this.tokens.root.setAttribute('aria-label', 'Answer tokens. Hover one to see what it read.');
    this.generateButton = el('vscode-button', { id: 'generate' }, ['Generate']);
    this.generateButton.addEventListener('click', () =>
      events.generate(
        Math.max(1, Math.min(4096, Math.round(Number(this.maxTokens.value) || 64))),
        Math.max(0, Math.min(10, Number(this.temperature.value) || 0)),
      ),
    );
    this.givenButton = el(
      'vscode-button',
      {
        id: 'read-answer',
        secondary: '',
        hidden: true,
        title: 'Show what each token of the answer after ---answer--- read',
      },
      ['Given answer'],
    );
    this.givenButton.addEventListener('click', () => events.readGiven());
    this.fileButton = el(
      'vscode-button',
      {
        id: 'answer-from-file',
        secondary: '',
        title: 'Read the text of a file as the answer to the inspected prompt, and show what each of its tokens read',
      },
      ['Answer from file…'],
    );
    this.fileButton.addEventListener('click', () => events.answerFromFile());
    this.stopButton = el('vscode-button', { id: 'stop-generation', secondary: '', hidden: true }, ['Stop']);
    this.stopButton.addEventListener('click', () => events.stop());
    // Selecting a span of the answer (whole tokens) attributes the prompt's sections to it.
    this.tokens.root.addEventListener('mouseup', () => {
      const span = this.selectedSpan();
      if (span) events.attributeSpan(span.start, span.end);
    });
    // The HTML report has no model to ask: no strip there.
    this.root = el('section', { class: 'card answer-card', hidden: !hasHost }, [
      el('div', { class: 'card-title' }, [
        el('h2', {}, ['Answer']),
        el('span', { class: 'hint' }, ['what the model writes next · hover a token to see what it read']),
      ]),
      el('div', { class: 'answer-controls' }, [
        el('label', {}, ['up to ', this.maxTokens, ' tokens']),
        el('label', {}, [' temperature ', this.temperature]),
        this.generateButton,
        this.givenButton,
        this.fileButton,
        this.stopButton,
      ]),
      this.status,
      this.tokens.root,
      this.attributionLine,
    ]);
  }

  /** Whether the inspected text has its own answer (a `---answer---` line): offers Given answer. */
  setGivenAvailable(available: boolean): void {
    this.hasGiven = available;
  }

  /** Redraws the strip for `state` (the tokens only when their number changed). */
  draw(state: AnswerState): void {
    const generating = state.phase === 'generating';
    this.generateButton.hidden = generating;
    this.givenButton.hidden = generating || !this.hasGiven;
    this.fileButton.hidden = generating;
    const givenLabel = state.file !== undefined ? `the answer from ${fileLabel(state.file)}` : 'the given answer';
    this.stopButton.hidden = !generating || state.given === true;
    this.status.textContent =
      state.phase === 'none'
        ? this.hasGiven
          ? 'Given answer reads the text after ---answer---; Generate lets the model continue the prompt instead; Answer from file… reads a file’s text as the answer.'
          : 'Generate lets the model continue the prompt (through its chat template when inspected as chat); Answer from file… reads a file’s text as the answer.'
        : state.phase === 'generating'
          ? state.given
            ? `Reading ${givenLabel}…`
            : `Generating… ${state.tokens.length} of at most ${state.maxTokens} tokens`
          : state.phase === 'error'
            ? `${state.given ? `Reading ${givenLabel}` : 'Generation'} failed: ${state.error ?? 'unknown error'}`
            : `${state.tokens.length} tokens${state.given ? ` of ${givenLabel}` : ''}${state.phase === 'stopped' ? ' (stopped)' : ''}.`;
    this.shown = state;
    this.attributionLine.textContent = state.attributing
      ? state.attributing
      : state.attributionError
        ? `Attribution failed: ${state.attributionError}`
        : state.attribution
          ? `Selection ${JSON.stringify(state.attribution.span.text)}: see the Sections card's "span needs" column. ${state.attribution.verdict}`
          : state.tokens.length > 0 && state.phase !== 'generating'
            ? 'Select a span of the answer (a sentence, a number) to see which sections it needs.'
            : '';
    if (state.tokens.length !== this.drawnTokens) {
      this.tokens.setTokens(state.text, state.tokens);
      this.drawnTokens = state.tokens.length;
    }
  }

  /** The selection in the answer, widened to whole tokens: offsets into the answer's text, or null. */
  private selectedSpan(): { start: number; end: number } | null {
    const selection = window.getSelection();
    const tokens = this.shown?.tokens ?? [];
    if (!selection || selection.isCollapsed || tokens.length === 0) return null;
    const indexOf = (node: Node | null): number | null => {
      const element = node instanceof Element ? node : (node?.parentElement ?? null);
      const hit = element?.closest<HTMLElement>('[data-token-index]');
      return hit && this.tokens.root.contains(hit) ? Number(hit.dataset.tokenIndex) : null;
    };
    const a = indexOf(selection.anchorNode);
    const b = indexOf(selection.focusNode);
    if (a === null || b === null) return null;
    const first = tokens[Math.min(a, b)];
    const last = tokens[Math.max(a, b)];
    return first && last && last.end > first.start ? { start: first.start, end: last.end } : null;
  }
}
