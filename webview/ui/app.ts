// The inspector UI: wires the views to the one state machine (webview/model/viewState.ts). Every input
// becomes a ViewEvent; reduceView returns the new state and the effects, which this class carries out by
// drawing. It keeps only what drawing needs: the views, the frame schedulers and the hover timer's id.
import {
  assertNever,
  type ExportKind,
  type HostMessage,
  type InspectionResult,
  type PanelCommand,
  type ReplyMessage,
} from '../../src/shared/protocol';
import { ANSWER_SEPARATOR } from '../../src/shared/answerText';
import type { Change } from '../model/inspectionState';
import { resultOf } from '../model/inspectionState';
import { captionOf, MatrixCache } from '../model/matrixCache';
import { ExactRowStore } from '../model/exactRows';
import { RolloutRowStore } from '../model/rolloutRows';
import { longSectionFigures, sectionFigures } from '../model/sectionFigures';
import {
  HOVER_TO_EDITOR_MS,
  initialViewState,
  reduceView,
  type ViewEffect,
  type ViewEvent,
  type ViewState,
} from '../model/viewState';
import { Controls } from './controls';
import { renderCost } from './costChart';
import { el, frameScheduler } from './dom';
import { renderDrivers } from './driversView';
import { renderSections } from './sectionView';
import { exportView } from './exporter';
import { HeadGrid } from './headGrid';
import { renderHeader } from './headerView';
import { renderLegend } from './legend';
import type { HostBridge } from './hostBridge';
import { MatrixView } from './matrixView';
import { StatusBanners } from './statusBanners';
import { readTheme, watchTheme } from './theme';
import { TokenView } from './tokenView';
import { Tooltip } from './tooltip';
import {
  answerFocusRow,
  answerShowsRollout,
  answerShowsValueNorm,
  answerRequestOf,
  attributionShading,
  noAnswer,
  reduceAnswer,
  type AnswerInput,
  type AnswerState,
} from '../model/answerStrip';
import { AnswerView } from './answerView';

export class InspectorApp {
  private state: ViewState;
  private readonly cache = new MatrixCache();
  /** Exact rows the worker computed for the focus (rows on demand). */
  private readonly exactRows = new ExactRowStore();
  private rowRequests = 0;
  /** Rollout rows the worker computes in the background where the layers came without them. */
  private readonly rolloutRows = new RolloutRowStore();
  /** The rows on screen are asked for this long after a scroll settles. */
  private rolloutTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly rolloutLine = el('div', { class: 'rollout-line', hidden: true });
  /** The pending 'hover-rested' event (the state says whether one is awaited). */
  private restTimer: ReturnType<typeof setTimeout> | undefined;
  /** Layers whose head thumbnails are drawn (each is drawn once, as it streams in). */
  private drawnLayers = new Set<number>();
  private readonly headerSlot = el('div', { class: 'header-slot' });
  private readonly banners: StatusBanners;
  private readonly controls: Controls;
  private readonly tokens: TokenView;
  private readonly matrixView: MatrixView;
  private readonly heads: HeadGrid;
  private readonly driversSlot = el('section', { class: 'card drivers-card', hidden: true });
  private readonly costSlot = el('section', { class: 'card cost-card', hidden: true });
  private readonly sectionsSlot = el('section', { class: 'card sections-card', hidden: true });
  private readonly focusLine = el('div', { class: 'focus-line' });
  /** Screen readers hear pinned (keyboard or click) focus changes only, not every hover. */
  private readonly announcer = el('div', { class: 'sr-only', 'aria-live': 'polite' });
  private readonly tooltip = new Tooltip();
  private readonly empty = el('div', { class: 'empty' }, ['Select prompt text and run “Inspect Attention”.']);
  private readonly main: HTMLElement;
  /** The answer strip (model/answerStrip.ts): beside the view state, reset with each inspection. */
  private answer: AnswerState = noAnswer;
  private readonly answerView: AnswerView;
  private readonly drawFocusSoon = frameScheduler(() => this.drawFocus());
  private readonly rebuildSoon = frameScheduler(() => this.rebuildMatrix());

  constructor(
    private readonly root: HTMLElement,
    private readonly bridge: HostBridge,
    private readonly reportHtml: string | null = null,
  ) {
    this.state = initialViewState(bridge.kind === 'vscode');
    this.banners = new StatusBanners(
      {
        cancel: () => bridge.post({ type: 'cancel' }),
        rerun: () => bridge.request({ type: 'rerun' }),
        command: (command) => bridge.post({ type: 'command', command }),
      },
      bridge.kind === 'vscode',
    );
    this.controls = new Controls({
      change: (change) => this.dispatch({ kind: 'controls', change }),
      export: (k) => this.onExport(k),
    });
    this.tokens = new TokenView({
      hover: (index) => this.dispatch({ kind: 'hover', index }),
      pin: (index) => this.dispatch({ kind: 'toggle-pin', index }),
      move: (index) => this.dispatch({ kind: 'pin', index }),
      scrolled: () => this.askRolloutRowsSoon(),
    });
    this.answerView = new AnswerView(
      {
        generate: (maxTokens, temperature) => bridge.post({ type: 'generate', maxTokens, temperature, seed: 1 }),
        readGiven: () => bridge.post({ type: 'read-answer' }),
        answerFromFile: () => bridge.post({ type: 'command', command: 'answer-from-file' }),
        stop: () => bridge.post({ type: 'stop-generation' }),
        hover: (index) => this.onAnswer({ kind: 'answer-hover', index }),
        attributeSpan: (start, end) => bridge.post({ type: 'attribute-span', start, end }),
      },
      bridge.kind === 'vscode',
    );
    this.matrixView = new MatrixView({ pick: (query, key) => this.dispatch({ kind: 'pick-cell', query, key }) });
    this.heads = new HeadGrid({
      // A head picked in the grid shows its own weights: rollout (over all heads) gives way to attention.
      select: (layer, head) =>
        this.dispatch({
          kind: 'controls',
          change: {
            layer,
            head,
            mode: this.state.controls.mode === 'rollout' ? 'attention' : this.state.controls.mode,
          },
        }),
    });
    const card = (
      cls: string,
      title: string,
      hint: string | null,
      body: HTMLElement[],
      key: HTMLElement | null = null,
    ): HTMLElement =>
      el('section', { class: `card ${cls}` }, [
        el('div', { class: 'card-title' }, [
          el('h2', {}, [title]),
          ...(hint ? [el('span', { class: 'hint' }, [hint])] : []),
          ...(key ? [key] : []),
        ]),
        ...body,
      ]);
    this.main = el('main', { class: 'layout', hidden: true }, [
      el('div', { class: 'column' }, [
        card('tokens-card', 'Tokens', 'Hover a token · click to pin · arrows move · Esc clears', [
          this.tokens.root,
          this.focusLine,
          this.rolloutLine,
        ]),
        this.answerView.root,
        el('div', { class: 'row-cards' }, [this.driversSlot, this.costSlot, this.sectionsSlot]),
      ]),
      el('div', { class: 'column side' }, [
        card('matrix-card', 'Attention matrix', null, [this.matrixView.root]),
        card(
          'heads-card',
          'Heads',
          'click a head to select it',
          [this.heads.root],
          renderLegend(['prev', 'local', 'induct', 'broad', 'sink']),
        ),
      ]),
    ]);
    root.replaceChildren(
      el('div', { class: 'panel' }, [this.headerSlot, this.banners.root, this.controls.root, this.empty, this.main]),
      this.tooltip.root,
      this.announcer,
    );
    this.controls.root.hidden = true;
    this.applyTheme();
    watchTheme(() => this.applyTheme());
    window.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented) this.dispatch({ kind: 'escape' });
    });
  }

  /** The HTML report: a finished result, no host. */
  loadResult(result: InspectionResult): void {
    this.dispatch({ kind: 'result', result });
  }

  handle(message: HostMessage): void {
    switch (message.kind) {
      case 'focus-token':
        // The editor cursor moved onto a token: focus it here, and tell the host what it attends to so the
        // editor can decorate those spans (the host knows not to scroll for a focus it caused).
        this.dispatch({ kind: 'focus-token', index: message.index });
        return;
      case 'reply':
        this.onReply(message);
        return;
      case 'answer':
        this.onAnswer(message);
        return;
      case 'attention-row':
        if (this.exactRows.accept(message)) this.drawFocusSoon();
        return;
      case 'rollout-progress':
        if (this.rolloutRows.progress(message)) this.drawRolloutLine();
        return;
      case 'rollout-rows':
        if (!this.rolloutRows.accept(message)) return;
        this.drawRolloutLine();
        this.drawFocusSoon();
        return;
      case 'progress':
      case 'header':
      case 'layer':
      case 'summary':
      case 'cost':
      case 'source':
      case 'error':
      case 'stale':
        this.dispatch({ kind: 'inspection', input: message });
        return;
      default:
        assertNever(message);
    }
  }

  private dispatch(event: ViewEvent): void {
    const t = reduceView(this.state, event);
    this.state = t.state;
    for (const effect of t.effects) this.apply(effect);
  }

  private apply(effect: ViewEffect): void {
    switch (effect.kind) {
      case 'inspection':
        this.drawInspection(effect.change);
        return;
      case 'draw-focus':
        this.askFocusRows(this.state.pinned ?? this.state.hover);
        if (effect.soon) this.drawFocusSoon();
        else this.drawFocus();
        return;
      case 'draw-controls':
        this.drawControls();
        return;
      case 'rebuild-matrix':
        this.rebuildSoon();
        return;
      case 'scroll-to':
        // A long text draws the token only now: its tooltip follows in the next frame.
        if (this.tokens.scrollIntoView(effect.index)) this.drawFocusSoon();
        return;
      case 'wait-for-rest':
        if (this.restTimer !== undefined) clearTimeout(this.restTimer);
        this.restTimer = setTimeout(() => {
          this.restTimer = undefined;
          this.dispatch({ kind: 'hover-rested' });
        }, HOVER_TO_EDITOR_MS);
        return;
      case 'tell-editor':
        this.tellEditor(effect.reveal);
        return;
      default:
        assertNever(effect);
    }
  }

  /** Asks for the exact rows a focus reads now, not in the frame that draws it: a reply of a millisecond or two
   * then arrives before that frame (drawFocus asks too; each row is asked for once). */
  private askFocusRows(index: number | null): void {
    const h = this.state.inspection.header;
    if (!h || this.bridge.kind !== 'vscode') return;
    for (const k of this.exactRows.toAsk(this.exactRows.needed(this.state.controls, index, h.model.layers)))
      this.bridge.post({ type: 'attention-row', requestId: ++this.rowRequests, inspection: h.requestId, ...k });
  }

  /** The host's answer to an export or a re-run this view asked for. */
  private onReply(reply: ReplyMessage): void {
    const request = this.bridge.settle(reply.inReplyTo);
    if (!request || request.type !== 'export') {
      if (reply.outcome === 'failed') this.focusLine.textContent = `Re-run failed: ${reply.message ?? 'unknown error'}`;
      return;
    }
    const kind = request.kind.toUpperCase();
    if (reply.outcome === 'done')
      this.focusLine.textContent = `Exported ${kind}${reply.message ? `: ${reply.message}` : '.'}`;
    else if (reply.outcome === 'failed')
      this.focusLine.textContent = `Export failed: ${reply.message ?? 'unknown error'}`;
    else this.focusLine.textContent = '';
  }

  private drawInspection(change: Change): void {
    const s = this.state.inspection;
    this.banners.show(s);
    switch (change) {
      case 'reset':
        this.answer = { ...noAnswer, requestId: s.requestId };
        this.answerView.setGivenAvailable(ANSWER_SEPARATOR.test(s.header?.text ?? ''));
        this.answerView.draw(this.answer);
        this.drawReset();
        this.drawNewLayers();
        this.saveState();
        this.drawCost();
        return;
      case 'layer':
        this.drawNewLayers();
        return;
      case 'source':
        this.drawHeader();
        this.saveState();
        return;
      case 'cost':
        this.drawCost();
        this.drawHeader();
        this.drawSections();
        return;
      case 'summary':
        if (!s.header || !s.summary) return;
        this.drawHeader();
        this.heads.setRoles(s.summary.heads);
        this.driversSlot.replaceChildren(
          renderDrivers(s.summary, s.header.tokens, { focus: (index) => this.dispatch({ kind: 'pin', index }) }),
        );
        this.driversSlot.hidden = false;
        this.rebuildSoon();
        return;
      case 'none':
      case 'progress':
      case 'error':
      case 'stale':
        return;
      default:
        assertNever(change);
    }
  }

  /** The header: the model, both token counts, the notes; its buttons ask the host (not in the HTML report). */
  private drawHeader(): void {
    const s = this.state.inspection;
    this.root.classList.toggle('showing-previous', s.previous === true);
    if (!s.header) return;
    const actions =
      this.bridge.kind === 'vscode'
        ? { command: (command: PanelCommand) => this.bridge.post({ type: 'command', command }) }
        : null;
    this.headerSlot.replaceChildren(renderHeader(s.header, s.source, s.summary, s.cost, actions));
  }

  private drawNewLayers(): void {
    const s = this.state.inspection;
    for (const layer of s.layers) {
      if (!layer || this.drawnLayers.has(layer.layer)) continue;
      this.drawnLayers.add(layer.layer);
      this.heads.setLayer(layer, s.layers);
    }
    this.rebuildSoon();
  }

  private drawCost(): void {
    const s = this.state.inspection;
    if (s.cost) this.costSlot.replaceChildren(renderCost(s.cost));
    this.costSlot.hidden = !s.cost || !s.header;
  }

  /** A new inspection: the views emptied, then shaped for its tokens and model. */
  private drawReset(): void {
    const { inspection, controls } = this.state;
    const h = inspection.header;
    this.cache.clear(h?.tokens.length ?? 0);
    this.exactRows.reset(h?.requestId ?? -1);
    this.rolloutRows.reset(h?.requestId ?? -1);
    this.drawRolloutLine();
    this.drawnLayers = new Set();
    this.empty.hidden = !!h || inspection.phase !== 'waiting';
    this.main.hidden = !h;
    this.controls.root.hidden = !h;
    this.driversSlot.hidden = true;
    this.sectionsSlot.hidden = true;
    if (!h) {
      this.headerSlot.replaceChildren();
      return;
    }
    this.drawHeader();
    this.tokens.setTokens(h.text, h.tokens);
    this.matrixView.setTokens(h.tokens);
    this.heads.setShape(h.model.layers, h.model.heads);
    this.controls.setShape(h.model.layers, h.model.heads);
    requestAnimationFrame(() => this.controls.show(this.state.controls));
    this.heads.setSelection(controls.layer, controls.head, controls.mode !== 'rollout');
  }

  private drawControls(): void {
    const v = this.state.controls;
    this.controls.show(v);
    this.heads.setSelection(v.layer, v.head, v.mode !== 'rollout');
  }

  /** What the panel serializer needs to re-run this inspection after a window reload. */
  private saveState(): void {
    const { header: h, source } = this.state.inspection;
    if (!h || !source) return;
    if (source.uri !== undefined || this.bridge.kind === 'vscode') {
      const answer = this.answer.requestId === h.requestId ? answerRequestOf(this.answer) : null;
      this.bridge.saveState({
        uri: source.uri,
        offset: source.offset,
        length: h.text.length,
        label: source.label,
        ...(answer ? { answer } : {}),
      });
    }
  }

  private rebuildMatrix(): void {
    const { inspection, controls } = this.state;
    const h = inspection.header;
    if (!h || !this.cache.update(inspection, controls)) return;
    if (this.cache.long) this.matrixView.setOverview(this.cache.overview);
    else this.matrixView.setMatrix(this.cache.matrix);
    this.drawSections();
    this.drawFocus();
  }

  /** The sections card, for the current matrix and, beside the model's counts, the target's. */
  private drawSections(): void {
    const { inspection, sections } = this.state;
    const h = inspection.header;
    const { matrix, long } = this.cache;
    const figures =
      !h || !sections
        ? null
        : matrix
          ? sectionFigures(sections, matrix, h.tokens.length)
          : long
            ? longSectionFigures(sections, long)
            : null;
    if (h && figures && sections)
      this.sectionsSlot.replaceChildren(
        renderSections(
          sections,
          figures,
          { focus: (index) => this.dispatch({ kind: 'pin', index }) },
          h.model.card?.name ?? h.model.id,
          inspection.cost,
          this.answer.attribution,
        ),
      );
    this.sectionsSlot.hidden = !matrix && !long;
  }

  /** Tells the host what the focus attends to, so the editor can decorate those spans. */
  private tellEditor(reveal: boolean): void {
    if (this.restTimer !== undefined) clearTimeout(this.restTimer);
    this.restTimer = undefined;
    const index = this.state.pinned ?? this.state.hover;
    this.bridge.post({ type: 'focus', index, attended: this.cache.attended(index, 32), reveal });
  }

  private onAnswer(input: AnswerInput): void {
    const before = this.answer;
    this.answer = reduceAnswer(before, input);
    if (input.kind !== 'answer-hover') {
      this.answerView.draw(this.answer);
      // A finished answer is remembered with the inspection, so a window reload asks for it again.
      if (input.event === 'end' || input.event === 'start') this.saveState();
      if (input.event === 'attribution' || (input.event === 'start' && before.attribution)) {
        this.drawSections();
        this.drawFocusSoon();
      }
      return;
    }
    if (this.answer.hover === before.hover) return;
    this.drawAnswerFocus();
  }

  /** An answer token under the pointer shades the prompt and the answer by what it read; off it, the focus returns. */
  private drawAnswerFocus(): void {
    const { hover, tokens } = this.answer;
    const header = this.state.inspection.header;
    const token = hover === null ? undefined : tokens[hover];
    if (!token || !header) {
      this.answerView.tokens.shade(null, 0);
      this.drawFocusSoon();
      return;
    }
    const { layer, head, mode } = this.state.controls;
    const row = answerFocusRow(token, layer, head, mode);
    const rollout = answerShowsRollout(token, mode);
    const weighted = answerShowsValueNorm(token, mode) ? 'attention × value norm, ' : '';
    // The prompt's keys: all the inspected tokens for a generated answer; those before `---answer---` for a
    // given one (its row holds the prompt, then the answer's tokens up to it).
    const P = token.keys - (hover ?? 0) - 1;
    // The first token (the sink) takes most weight in most heads: scale by the others.
    // In rollout, the token itself holds at least half (the residual's ½I): scale and name by the others too.
    const last = rollout ? row.length - 1 : row.length;
    let max = 0;
    for (let k = 1; k < last; k++) max = Math.max(max, row[k]);
    const prompt = new Float32Array(header.tokens.length);
    prompt.set(row.subarray(0, Math.min(P, header.tokens.length)));
    const answer = new Float32Array(tokens.length);
    answer.set(row.subarray(P, P + tokens.length));
    this.tokens.shade(prompt, max);
    this.answerView.tokens.shade(answer, max);
    let best = 0;
    for (let k = 1; k < last; k++) if (row[k] > row[best]) best = k;
    const label = (k: number): string => JSON.stringify(k < P ? header.tokens[k].text : (tokens[k - P]?.text ?? ''));
    this.focusLine.textContent = `Answer token ${JSON.stringify(token.text)} (#${hover}) reads ${label(best)} most (${(row[best] * 100).toFixed(1)}%) — ${rollout ? (layer === 'all' ? 'rollout through every layer' : `rollout up to layer ${layer}`) : `${weighted}${layer === 'all' ? 'mean over layers' : `layer ${layer}`}, ${typeof head === 'number' ? `head ${head}` : `${head} over heads`}`}.`;
  }

  /** The rollout layer whose rows come on demand for the current selection (null: none needed). */
  private rolloutLayer(): number | null {
    const { inspection, controls } = this.state;
    const h = inspection.header;
    if (!h || this.bridge.kind !== 'vscode') return null;
    return this.rolloutRows.layerFor(controls, inspection.layers, h.model.layers);
  }

  /** Asks the worker for the rollout rows on screen and the focused one, where the layers came without them; the
   * rows come in the background (nothing waits for them), superseding a request still computing. */
  private askRolloutRows(): void {
    const h = this.state.inspection.header;
    const layer = this.rolloutLayer();
    if (!h || layer === null) return;
    const { pinned, hover } = this.state;
    const ask = this.rolloutRows.toAsk(layer, this.tokens.visibleTokens(), pinned ?? hover, pinned !== null);
    if (!ask) return;
    const requestId = ++this.rowRequests;
    this.rolloutRows.sent(requestId, ask);
    this.bridge.post({ type: 'rollout-rows', requestId, inspection: h.requestId, ...ask, queries: [...ask.queries] });
    this.drawRolloutLine();
  }

  private askRolloutRowsSoon(): void {
    if (this.rolloutLayer() === null) return;
    if (this.rolloutTimer !== undefined) clearTimeout(this.rolloutTimer);
    this.rolloutTimer = setTimeout(() => {
      this.rolloutTimer = undefined;
      this.askRolloutRows();
    }, 150);
  }

  /** The plain line under the tokens while rollout rows are computed (empty and hidden otherwise). */
  private drawRolloutLine(): void {
    const text = this.rolloutLayer() === null ? '' : this.rolloutRows.line();
    if (this.rolloutLine.textContent !== text) this.rolloutLine.textContent = text;
    this.rolloutLine.hidden = text === '';
  }

  /** The focus's exact row when every row it reads has arrived; asks the host for those that have not. */
  private exactFocusRow(index: number | null): { row: Float32Array | null; awaiting: boolean } {
    const h = this.state.inspection.header;
    if (!h || this.bridge.kind !== 'vscode') return { row: null, awaiting: false };
    const rolloutLayer = this.rolloutLayer();
    this.drawRolloutLine();
    if (rolloutLayer !== null) {
      this.askRolloutRows();
      const row = index === null ? null : this.rolloutRows.row(rolloutLayer, index, this.state.controls.hideSink);
      return { row, awaiting: index !== null && row === null };
    }
    const keys = this.exactRows.needed(this.state.controls, index, h.model.layers);
    // Ids of their own: a reply is matched by what it answers (the store's key), not kept by the bridge.
    for (const k of this.exactRows.toAsk(keys))
      this.bridge.post({ type: 'attention-row', requestId: ++this.rowRequests, inspection: h.requestId, ...k });
    const row = this.exactRows.combined(keys, h.tokens.length, this.state.controls.hideSink);
    return { row, awaiting: row === null && keys.length > 0 };
  }

  private drawFocus(): void {
    const { inspection, controls, pinned, hover } = this.state;
    const exact = this.exactFocusRow(pinned ?? hover);
    const f = this.cache.focus(
      inspection.header,
      pinned ?? hover,
      pinned !== null,
      controls.direction,
      controls.threshold,
      exact.row,
      exact.awaiting,
    );
    if (f.kind === 'none') {
      // With no token in focus, the prompt shows what the selected answer span needs from each section.
      const attribution = this.answer.attribution;
      const sections = this.state.sections;
      const shading =
        attribution && sections && inspection.header
          ? attributionShading(
              attribution,
              sections.units.map((u) => u.start),
              sections.owner,
              inspection.header.tokens.length,
            )
          : null;
      this.tokens.shade(shading?.vector ?? null, shading?.max ?? 0);
      this.tokens.setFocus(f.index, pinned !== null, '');
      this.matrixView.setFocus(null, controls.direction);
      this.tooltip.hide();
      this.focusLine.textContent = f.line;
      return;
    }
    this.tokens.shade(f.vector, f.max);
    this.tokens.setFocus(f.index, pinned !== null, f.label);
    // A long inspection's matrix is an overview: the focused row is drawn over it once it is exact.
    const row = f.exact && this.cache.long ? f.vector : null;
    this.matrixView.setFocus(f.index, controls.direction, row, f.max);
    const anchor = this.tokens.elementAt(f.index);
    if (anchor && inspection.header) this.tooltip.show(anchor, f.tooltipTitle, f.top, inspection.header.tokens, f.max);
    else this.tooltip.hide();
    this.focusLine.textContent = f.line;
    if (pinned === f.index && this.announcer.textContent !== f.summary) this.announcer.textContent = f.summary;
  }

  private onExport(kind: ExportKind): void {
    this.focusLine.textContent = exportView(kind, this.bridge, {
      png: () => this.matrixView.exportImage(captionOf(this.state.inspection, this.state.controls)),
      result: () => resultOf(this.state.inspection),
      reportHtml: this.reportHtml,
    });
  }

  private applyTheme(): void {
    const theme = readTheme(this.root);
    this.tokens.setPalette(theme.palette);
    this.matrixView.setColors(theme.matrix);
    this.heads.setLut(theme.lut);
  }
}
