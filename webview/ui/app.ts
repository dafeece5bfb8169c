// The inspector UI: owns the state machine, the current selection and focus, and wires the views together.
import {
  assertNever,
  type ExportKind,
  type HostMessage,
  type InspectionResult,
  type ReplyMessage,
} from '../../src/shared/protocol';
import { buildMatrix, layersFor } from '../model/aggregate';
import { focusVector, maxOf, topEntries } from '../model/focus';
import { formatWeight, visibleTokenText } from '../model/tokenText';
import {
  initialState,
  reduce,
  resultOf,
  stateFromResult,
  type Change,
  type InspectionState,
} from '../model/inspectionState';
import { Controls, type ControlValues } from './controls';
import { renderCost } from './costChart';
import { el, frameScheduler } from './dom';
import { renderDrivers } from './driversView';
import { renderSections } from './sectionView';
import { exportView } from './exporter';
import { HeadGrid } from './headGrid';
import { renderHeader } from './headerView';
import type { HostBridge } from './hostBridge';
import { MatrixView } from './matrixView';
import { StatusBanners } from './statusBanners';
import { readTheme, watchTheme } from './theme';
import { TokenView } from './tokenView';
import { Tooltip } from './tooltip';

/** How long the pointer rests on a token before the editor shows its attended spans. */
const HOVER_TO_EDITOR_MS = 120;

export class InspectorApp {
  private state: InspectionState = initialState;
  private values: ControlValues = {
    layer: 'all',
    head: 'mean',
    mode: 'attention',
    direction: 'to',
    hideSink: false,
    threshold: 0,
  };
  private matrix: Float32Array | null = null;
  private matrixKey = '';
  private hover: number | null = null;
  private pinned: number | null = null;
  private vector = new Float32Array(0);
  private hostFocusTimer: ReturnType<typeof setTimeout> | undefined;
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
  private readonly renderFocusSoon = frameScheduler(() => this.renderFocus());
  private readonly rebuildSoon = frameScheduler(() => this.rebuildMatrix());

  constructor(
    private readonly root: HTMLElement,
    private readonly bridge: HostBridge,
    private readonly reportHtml: string | null = null,
  ) {
    this.banners = new StatusBanners(
      { cancel: () => bridge.post({ type: 'cancel' }), rerun: () => bridge.request({ type: 'rerun' }) },
      bridge.kind === 'vscode',
    );
    this.controls = new Controls({ change: (v) => this.onControls(v), export: (k) => this.onExport(k) });
    this.tokens = new TokenView({
      hover: (i) => {
        this.hover = i;
        if (this.pinned !== null) return;
        this.renderFocusSoon();
        this.tellHostSoon();
      },
      pin: (i) => this.pin(i === this.pinned ? null : i),
      move: (i) => {
        this.pin(i);
        this.tokens.scrollIntoView(i);
      },
    });
    this.matrixView = new MatrixView({ pick: (q, k) => this.pin(this.values.direction === 'to' ? q : k) });
    this.heads = new HeadGrid({ select: (layer, head) => this.onControls({ layer, head, mode: 'attention' }) });
    const card = (cls: string, title: string, hint: string | null, body: HTMLElement[]): HTMLElement =>
      el('section', { class: `card ${cls}` }, [
        el('div', { class: 'card-title' }, [
          el('h2', {}, [title]),
          ...(hint ? [el('span', { class: 'hint' }, [hint])] : []),
        ]),
        ...body,
      ]);
    this.main = el('main', { class: 'layout', hidden: true }, [
      el('div', { class: 'column' }, [
        card('tokens-card', 'Tokens', 'Hover a token · click to pin · arrows move · Esc clears', [
          this.tokens.root,
          this.focusLine,
        ]),
        el('div', { class: 'row-cards' }, [this.driversSlot, this.costSlot, this.sectionsSlot]),
      ]),
      el('div', { class: 'column side' }, [
        card('matrix-card', 'Attention matrix', null, [this.matrixView.root]),
        card('heads-card', 'Heads', 'click a head to select it', [this.heads.root]),
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
      if (e.key === 'Escape' && !e.defaultPrevented && this.pinned !== null) this.pin(null);
    });
  }

  /** The HTML report: a finished result, no host. */
  loadResult(result: InspectionResult): void {
    this.state = stateFromResult(result);
    this.onChange('reset');
    this.onChange('summary');
  }

  handle(message: HostMessage): void {
    switch (message.kind) {
      case 'focus-token':
        // The editor cursor moved onto a token: focus it here, and tell the host what it attends to so the
        // editor can decorate those spans (the host knows not to scroll for a focus it caused).
        if (message.index === null || message.index < this.tokens.tokenCount) this.pin(message.index, false);
        return;
      case 'reply':
        this.onReply(message);
        return;
      case 'progress':
      case 'header':
      case 'layer':
      case 'summary':
      case 'cost':
      case 'source':
      case 'error':
      case 'stale': {
        const t = reduce(this.state, message);
        this.state = t.state;
        this.onChange(t.change);
        return;
      }
      default:
        assertNever(message);
    }
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

  private onChange(change: Change): void {
    const s = this.state;
    this.banners.show(s);
    if (change === 'reset') this.reset();
    if (change === 'layer' || change === 'reset') {
      for (const layer of s.layers) {
        if (!layer || this.drawnLayers.has(layer.layer)) continue;
        this.drawnLayers.add(layer.layer);
        this.heads.setLayer(layer, s.layers);
      }
      this.rebuildSoon();
    }
    if (change === 'source' && s.header) this.headerSlot.replaceChildren(renderHeader(s.header, s.source, s.summary));
    if (change === 'source' || change === 'reset') this.saveState();
    if (change === 'cost' || change === 'reset') {
      if (s.cost) this.costSlot.replaceChildren(renderCost(s.cost));
      this.costSlot.hidden = !s.cost || !s.header;
    }
    if (change === 'summary' && s.header && s.summary) {
      this.headerSlot.replaceChildren(renderHeader(s.header, s.source, s.summary));
      this.heads.setRoles(s.summary.heads);
      this.driversSlot.replaceChildren(renderDrivers(s.summary, s.header.tokens, { focus: (i) => this.pin(i) }));
      this.driversSlot.hidden = false;
      this.rebuildSoon();
    }
  }

  private reset(): void {
    const h = this.state.header;
    this.hover = null;
    this.pinned = null;
    this.matrix = null;
    this.matrixKey = '';
    this.drawnLayers = new Set();
    this.empty.hidden = !!h || this.state.phase !== 'waiting';
    this.main.hidden = !h;
    this.controls.root.hidden = !h;
    this.driversSlot.hidden = true;
    this.sectionsSlot.hidden = true;
    if (!h) {
      this.headerSlot.replaceChildren();
      return;
    }
    this.headerSlot.replaceChildren(renderHeader(h, this.state.source, undefined));
    this.tokens.setTokens(h.text, h.tokens);
    this.matrixView.setTokens(h.tokens);
    this.heads.setShape(h.model.layers, h.model.heads);
    this.vector = new Float32Array(h.tokens.length);
    if (this.values.layer !== 'all' && this.values.layer >= h.model.layers)
      this.values = { ...this.values, layer: 'all' };
    if (typeof this.values.head === 'number' && this.values.head >= h.model.heads)
      this.values = { ...this.values, head: 'mean' };
    this.controls.setShape(h.model.layers, h.model.heads);
    requestAnimationFrame(() => this.controls.show(this.values));
    this.heads.setSelection(this.values.layer, this.values.head, this.values.mode === 'attention');
  }

  /** What the panel serializer needs to re-run this inspection after a window reload. */
  private saveState(): void {
    const { header: h, source } = this.state;
    if (!h || !source) return;
    if (source.uri !== undefined || this.bridge.kind === 'vscode') {
      this.bridge.saveState({ uri: source.uri, offset: source.offset, length: h.text.length, label: source.label });
    }
  }

  private onControls(change: Partial<ControlValues>): void {
    this.values = { ...this.values, ...change };
    this.controls.show(this.values);
    this.heads.setSelection(this.values.layer, this.values.head, this.values.mode === 'attention');
    if (change.direction !== undefined || change.threshold !== undefined) this.renderFocusSoon();
    this.rebuildSoon();
  }

  private rebuildMatrix(): void {
    const h = this.state.header;
    if (!h) return;
    const v = this.values;
    const sel = { layer: v.layer, head: v.head, mode: v.mode, hideSink: v.hideSink };
    const used = layersFor(this.state.layers, sel)
      .map((l) => l.layer)
      .join(',');
    const key = `${this.state.requestId}|${v.layer}|${v.head}|${v.mode}|${v.hideSink}|${used}`;
    if (key === this.matrixKey) return;
    this.matrixKey = key;
    this.matrix = buildMatrix(this.state.layers, h.tokens.length, h.model.heads, sel, this.matrix ?? undefined) ?? null;
    this.matrixView.setMatrix(this.matrix);
    if (this.matrix)
      this.sectionsSlot.replaceChildren(renderSections(h.text, h.tokens, this.matrix, { focus: (i) => this.pin(i) }));
    this.sectionsSlot.hidden = !this.matrix;
    this.renderFocus();
  }

  /** Pins the focus (click, keyboard, a driver, the editor cursor); `reveal` scrolls the editor to it. */
  private pin(index: number | null, reveal = true): void {
    this.pinned = index;
    this.renderFocus();
    if (index !== null) this.tokens.scrollIntoView(index);
    this.tellHost(reveal);
  }

  /** Tells the host what the focus attends to, so the editor can decorate those spans. */
  private tellHost(reveal: boolean): void {
    if (this.hostFocusTimer !== undefined) clearTimeout(this.hostFocusTimer);
    this.hostFocusTimer = undefined;
    if (this.bridge.kind !== 'vscode') return;
    const index = this.pinned ?? this.hover;
    const attended = index === null || !this.matrix ? [] : topEntries(this.vector, 32);
    this.bridge.post({ type: 'focus', index, attended, reveal: reveal && index !== null });
  }

  /** Hovers reach the editor once the pointer rests (a trailing debounce), without scrolling it. */
  private tellHostSoon(): void {
    if (this.bridge.kind !== 'vscode') return;
    if (this.hostFocusTimer !== undefined) clearTimeout(this.hostFocusTimer);
    this.hostFocusTimer = setTimeout(() => {
      this.renderFocus();
      this.tellHost(false);
    }, HOVER_TO_EDITOR_MS);
  }

  private renderFocus(): void {
    const h = this.state.header;
    const index = this.pinned ?? this.hover;
    const n = h?.tokens.length ?? 0;
    if (!h || index === null || index >= n || !this.matrix) {
      this.tokens.shade(null, 0);
      this.tokens.setFocus(index !== null && index < n ? index : null, this.pinned !== null, '');
      this.matrixView.setFocus(null, this.values.direction);
      this.tooltip.hide();
      this.focusLine.textContent = !this.matrix && h ? 'Waiting for this layer…' : '';
      return;
    }
    const dir = this.values.direction;
    focusVector(this.matrix, n, index, dir, this.values.threshold, this.vector);
    const max = maxOf(this.vector);
    this.tokens.shade(this.vector, max);
    const top = topEntries(this.vector, 6);
    const name = (i: number): string =>
      h.tokens[i]?.special ? '⟨bos⟩' : visibleTokenText(h.tokens[i]?.text ?? '', 24);
    const verb = dir === 'to' ? 'attends to' : 'is attended by';
    const list = top.map((t) => `${name(t.index)} ${formatWeight(t.weight)}`).join(', ');
    this.tokens.setFocus(
      index,
      this.pinned !== null,
      `Token ${index} ${name(index)} ${verb} ${list || 'nothing above the threshold'}`,
    );
    this.matrixView.setFocus(index, dir);
    const anchor = this.tokens.elementAt(index);
    if (anchor) this.tooltip.show(anchor, `#${index} ${name(index)} ${verb}`, top, h.tokens, max);
    const summary = `#${index} ${name(index)} ${verb} ${list || 'nothing above the threshold'}`;
    this.focusLine.textContent = `${this.pinned !== null ? 'Pinned' : 'Hover'}: ${summary}`;
    if (this.pinned === index && this.announcer.textContent !== summary) this.announcer.textContent = summary;
  }

  private onExport(kind: ExportKind): void {
    this.focusLine.textContent = exportView(kind, this.bridge, {
      png: () => this.matrixView.exportImage(this.caption()),
      result: () => resultOf(this.state),
      reportHtml: this.reportHtml,
    });
  }

  /** What the exported image shows, in words. */
  private caption(): string {
    const h = this.state.header;
    const v = this.values;
    const model = h?.model.card?.name ?? h?.model.id ?? '';
    const layer = v.layer === 'all' ? 'all layers' : `layer ${v.layer}`;
    const head =
      v.mode === 'rollout' ? 'rollout' : typeof v.head === 'number' ? `head ${v.head}` : `${v.head} over heads`;
    return [
      this.state.source?.label,
      model,
      layer,
      head,
      v.hideSink ? 'sink hidden' : null,
      `${h?.tokens.length ?? 0} tokens`,
    ]
      .filter(Boolean)
      .join(' · ');
  }

  private applyTheme(): void {
    const theme = readTheme(this.root);
    this.tokens.setPalette(theme.palette);
    this.matrixView.setColors(theme.matrix);
    this.heads.setLut(theme.lut);
  }
}
