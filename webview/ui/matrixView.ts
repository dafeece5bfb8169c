// The query × key heatmap on a canvas: the matrix is painted once into an n × n offscreen bitmap (ImageData),
// then drawn scaled; wheel zooms around the pointer, drag pans, double-click resets. Token labels appear on
// the axes once a cell is big enough to hold text. A long inspection has no n × n matrix: its overview's blocks
// are the bitmap, and the focused query's exact row, when it has arrived, is drawn over its band as it is.
import type { TokenInfo } from '../../src/shared/protocol';
import { heatmapCeiling } from '../model/colorScale';
import type { Overview } from '../model/longMatrix';
import { visibleTokenText } from '../model/tokenText';
import { el, frameScheduler } from './dom';

const MARGIN = 56;
const LABEL_MIN_CELL = 11;
const MAX_CELL = 48;

export interface MatrixViewEvents {
  pick(query: number, key: number): void;
}

export interface MatrixColors {
  readonly lut: Uint8ClampedArray;
  readonly text: string;
  readonly muted: string;
  readonly focus: string;
  readonly background: string;
  /** Canvas font for axis labels, e.g. '10px monospace'. */
  readonly font: string;
}

export class MatrixView {
  readonly root: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  /** The focus band lives on its own canvas so a hover never redraws the n × n bitmap. */
  private readonly overlay: HTMLCanvasElement;
  private readonly readout: HTMLElement;
  private readonly legendBar: HTMLCanvasElement;
  private readonly legendMax: HTMLElement;
  private bitmap: HTMLCanvasElement | null = null;
  private n = 0;
  private tokens: readonly TokenInfo[] = [];
  private matrix: Float32Array | null = null;
  private overview: Overview | null = null;
  /** A long inspection's focused row (its weights and their largest), drawn over the focus band. */
  private focusRow: { readonly weights: Float32Array; readonly max: number } | null = null;
  private readonly rowStrip = document.createElement('canvas');
  private colors: MatrixColors | null = null;
  private scale = 1;
  private ox = 0;
  private oy = 0;
  private focus: { index: number; direction: 'to' | 'by' } | null = null;
  private drag: { x: number; y: number; ox: number; oy: number; moved: boolean } | null = null;
  /** Redraws (matrix, overlay) coalesced to one per animation frame. */
  private readonly invalidate = frameScheduler(() => this.draw());
  private readonly drawOverlaySoon = frameScheduler(() => this.drawOverlay());

  constructor(private readonly events: MatrixViewEvents) {
    this.canvas = el('canvas', {
      class: 'matrix-canvas',
      role: 'img',
      'aria-label': 'Attention matrix, queries down, keys across',
    });
    this.overlay = el('canvas', { class: 'matrix-overlay', 'aria-hidden': 'true' });
    this.readout = el('div', { class: 'matrix-readout' }, ['Scroll to zoom, drag to pan, double-click to reset.']);
    this.legendBar = el('canvas', { class: 'legend-bar', width: 128, height: 1 });
    this.legendMax = el('span', { class: 'legend-max' });
    const legend = el(
      'div',
      { class: 'matrix-legend', title: 'Colour scale: weights at or above the right end are drawn at full colour' },
      [el('span', {}, ['0']), this.legendBar, this.legendMax],
    );
    this.root = el('div', { class: 'matrix' }, [
      el('div', { class: 'matrix-stack' }, [this.canvas, this.overlay]),
      el('div', { class: 'matrix-footer' }, [this.readout, legend]),
    ]);
    this.canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    this.canvas.addEventListener('pointerdown', (e) => {
      this.canvas.setPointerCapture(e.pointerId);
      this.drag = { x: e.clientX, y: e.clientY, ox: this.ox, oy: this.oy, moved: false };
    });
    this.canvas.addEventListener('pointermove', (e) => this.onMove(e));
    this.canvas.addEventListener('pointerup', (e) => this.onUp(e));
    this.canvas.addEventListener('dblclick', () => this.resetView());
    new ResizeObserver(() => this.invalidate()).observe(this.root);
  }

  setTokens(tokens: readonly TokenInfo[]): void {
    this.tokens = tokens;
    this.n = tokens.length;
    this.resetView();
  }

  setColors(colors: MatrixColors): void {
    this.colors = colors;
    this.paintBitmap();
  }

  setMatrix(matrix: Float32Array | null): void {
    this.matrix = matrix;
    this.overview = null;
    this.paintBitmap();
  }

  /** A long inspection: its overview instead of the matrix. */
  setOverview(overview: Overview | null): void {
    this.matrix = null;
    this.overview = overview;
    if (overview)
      this.readout.textContent = `Overview: blocks of ${overview.bin} × ${overview.bin} tokens${overview.estimated ? ', estimated from per-token figures' : ''}${overview.tileWidth ? `, from tiles of ${overview.tileWidth} × ${overview.tileWidth} tokens` : ''}; a focused token's row is exact.`;
    this.paintBitmap();
  }

  /** The focus band; `row` (a long inspection's exact row of the focused query, with its largest) is drawn in it. */
  setFocus(index: number | null, direction: 'to' | 'by', row: Float32Array | null = null, max = 0): void {
    const same =
      index === null ? this.focus === null : this.focus?.index === index && this.focus.direction === direction;
    if (same && row === null && this.focusRow === null) return;
    this.focus = index === null ? null : { index, direction };
    this.focusRow = row && index !== null && direction === 'to' ? { weights: row, max } : null;
    this.drawOverlaySoon();
  }

  /** The whole matrix (at least 512 px, whole pixels per cell when small) under a caption, for PNG export. */
  exportImage(caption: string): HTMLCanvasElement | null {
    if (!this.bitmap || !this.colors) return null;
    const cell = Math.max(1, Math.floor(1024 / Math.max(1, this.n)));
    const size = Math.max(512, Math.min(4096, this.n * cell));
    const head = 28;
    const out = document.createElement('canvas');
    out.width = size + 16;
    out.height = size + head + 8;
    const ctx = out.getContext('2d');
    if (!ctx) return null;
    ctx.fillStyle = this.colors.background;
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.fillStyle = this.colors.text;
    ctx.font = this.colors.font.replace(/^\d+px/, '13px');
    ctx.textBaseline = 'middle';
    ctx.fillText(caption, 8, head / 2, size);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.bitmap, 8, head, size, size);
    return out;
  }

  private plotSize(): number {
    return Math.max(40, Math.min(this.root.clientWidth, 640) - MARGIN - 4);
  }

  private resetView(): void {
    this.scale = this.n > 0 ? this.plotSize() / this.n : 1;
    this.ox = 0;
    this.oy = 0;
    this.invalidate();
  }

  /** Tokens the bitmap spans per side (an overview's last block may reach past the last token). */
  private span(): number {
    return this.overview ? this.overview.size * this.overview.bin : this.n;
  }

  private paintBitmap(): void {
    const values = this.matrix ?? this.overview?.cells ?? null;
    const n = this.overview ? this.overview.size : this.n;
    if (!values || !this.colors || n === 0) {
      this.bitmap = null;
      this.invalidate();
      return;
    }
    const max = heatmapCeiling(values);
    this.drawLegend(max);
    const image = new ImageData(n, n);
    const px = new Uint32Array(image.data.buffer);
    const lut32 = new Uint32Array(this.colors.lut.buffer, this.colors.lut.byteOffset, 256);
    const inv = max > 0 ? 255 / max : 0;
    const m = values;
    const zero = lut32[0];
    for (let i = 0; i < m.length; i++) {
      const v = m[i];
      if (v === 0) {
        px[i] = zero;
        continue;
      }
      const at = (v * inv + 0.5) | 0;
      px[i] = lut32[at > 255 ? 255 : at];
    }
    const bitmap = this.bitmap ?? document.createElement('canvas');
    bitmap.width = n;
    bitmap.height = n;
    bitmap.getContext('2d')?.putImageData(image, 0, 0);
    this.bitmap = bitmap;
    this.invalidate();
  }

  private drawLegend(max: number): void {
    const ctx = this.legendBar.getContext('2d');
    if (!ctx || !this.colors) return;
    const image = new ImageData(128, 1);
    for (let x = 0; x < 128; x++) image.data.set(this.colors.lut.subarray(x * 2 * 4, x * 2 * 4 + 4), x * 4);
    ctx.putImageData(image, 0, 0);
    this.legendMax.textContent = max >= 0.999 ? '1' : `≥ ${max.toFixed(max < 0.01 ? 4 : 3)}`;
  }

  private clampView(): void {
    const plot = this.plotSize();
    const fit = this.n > 0 ? plot / this.n : 1;
    this.scale = Math.min(Math.max(this.scale, fit), Math.max(fit, MAX_CELL));
    const span = this.n * this.scale;
    this.ox = Math.min(0, Math.max(plot - span, this.ox));
    this.oy = Math.min(0, Math.max(plot - span, this.oy));
  }

  private draw(): void {
    const plot = this.plotSize();
    const css = plot + MARGIN;
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.canvas, this.overlay]) {
      if (c.width === Math.round(css * dpr)) continue;
      c.width = Math.round(css * dpr);
      c.height = Math.round(css * dpr);
      c.style.width = `${css}px`;
      c.style.height = `${css}px`;
    }
    const ctx = this.canvas.getContext('2d');
    if (!ctx || !this.colors) return;
    this.clampView();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, css, css);
    ctx.fillStyle = this.colors.background;
    ctx.fillRect(MARGIN, MARGIN, plot, plot);
    if (this.bitmap) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(MARGIN, MARGIN, plot, plot);
      ctx.clip();
      ctx.imageSmoothingEnabled = this.scale < 1;
      const side = this.span() * this.scale;
      ctx.drawImage(this.bitmap, MARGIN + this.ox, MARGIN + this.oy, side, side);
      ctx.restore();
    }
    this.drawAxes(ctx, plot);
    this.drawOverlay();
  }

  private drawOverlay(): void {
    const ctx = this.overlay.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const plot = this.plotSize();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, plot + MARGIN, plot + MARGIN);
    if (!this.focus || !this.colors || !this.bitmap) return;
    ctx.save();
    ctx.beginPath();
    ctx.rect(MARGIN, MARGIN, plot, plot);
    ctx.clip();
    const at = this.focus.index * this.scale;
    const band = Math.max(this.scale, 1.5);
    if (this.focusRow) this.drawRow(ctx, plot, MARGIN + this.oy + at, Math.max(this.scale, 3));
    ctx.strokeStyle = this.colors.focus;
    ctx.lineWidth = 1;
    if (this.focus.direction === 'to') ctx.strokeRect(MARGIN, MARGIN + this.oy + at - 0.5, plot, band + 1);
    else ctx.strokeRect(MARGIN + this.ox + at - 0.5, MARGIN, band + 1, plot);
    ctx.restore();
  }

  /**
   * The focused row over its band: per device pixel across the visible keys, the largest weight among the keys
   * it covers (a single strong key stays visible at any zoom), coloured on the row's own scale.
   */
  private drawRow(ctx: CanvasRenderingContext2D, plot: number, y: number, band: number): void {
    const row = this.focusRow;
    if (!row || !this.colors) return;
    const first = Math.max(0, Math.floor(-this.ox / this.scale));
    const end = Math.min(this.n, Math.ceil((plot - this.ox) / this.scale));
    if (end <= first) return;
    const width = Math.max(1, Math.min(end - first, Math.round(plot * (window.devicePixelRatio || 1))));
    const image = new ImageData(width, 1);
    const px = new Uint32Array(image.data.buffer);
    const lut32 = new Uint32Array(this.colors.lut.buffer, this.colors.lut.byteOffset, 256);
    const inv = row.max > 0 ? 255 / row.max : 0;
    for (let x = 0; x < width; x++) {
      let v = 0;
      const to = first + Math.ceil(((x + 1) * (end - first)) / width);
      for (let k = first + Math.floor((x * (end - first)) / width); k < to; k++) v = Math.max(v, row.weights[k]);
      px[x] = lut32[Math.min(255, (v * inv + 0.5) | 0)];
    }
    this.rowStrip.width = width;
    this.rowStrip.height = 1;
    this.rowStrip.getContext('2d')?.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.rowStrip, MARGIN + this.ox + first * this.scale, y, (end - first) * this.scale, band);
  }

  private drawAxes(ctx: CanvasRenderingContext2D, plot: number): void {
    if (!this.colors) return;
    ctx.font = this.colors.font;
    ctx.fillStyle = this.colors.muted;
    ctx.textBaseline = 'middle';
    if (this.scale < LABEL_MIN_CELL) {
      ctx.textAlign = 'right';
      ctx.fillText('query ↓', MARGIN - 6, MARGIN + 8);
      ctx.textAlign = 'left';
      ctx.fillText('key →', MARGIN + 2, MARGIN - 10);
      ctx.textAlign = 'right';
      ctx.fillText(`${this.n} × ${this.n}`, MARGIN + plot, MARGIN - 10);
      return;
    }
    ctx.fillStyle = this.colors.text;
    const first = Math.max(0, Math.floor(-this.oy / this.scale));
    const last = Math.min(this.n - 1, Math.ceil((plot - this.oy) / this.scale));
    ctx.textAlign = 'right';
    for (let i = first; i <= last; i++) {
      const y = MARGIN + this.oy + (i + 0.5) * this.scale;
      if (y < MARGIN || y > MARGIN + plot) continue;
      ctx.fillText(this.label(i), MARGIN - 4, y);
    }
    const firstK = Math.max(0, Math.floor(-this.ox / this.scale));
    const lastK = Math.min(this.n - 1, Math.ceil((plot - this.ox) / this.scale));
    ctx.textAlign = 'left';
    for (let k = firstK; k <= lastK; k++) {
      const x = MARGIN + this.ox + (k + 0.5) * this.scale;
      if (x < MARGIN || x > MARGIN + plot) continue;
      ctx.save();
      ctx.translate(x, MARGIN - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.fillText(this.label(k), 0, 0);
      ctx.restore();
    }
  }

  private label(i: number): string {
    const t = this.tokens[i];
    return t?.special ? '⟨bos⟩' : visibleTokenText(t?.text ?? '', 7);
  }

  private cellAt(e: PointerEvent | WheelEvent): { q: number; k: number; x: number; y: number } | null {
    const rect = this.canvas.getBoundingClientRect();
    const x = e.clientX - rect.left - MARGIN;
    const y = e.clientY - rect.top - MARGIN;
    const k = Math.floor((x - this.ox) / this.scale);
    const q = Math.floor((y - this.oy) / this.scale);
    if (x < 0 || y < 0 || q < 0 || k < 0 || q >= this.n || k >= this.n) return null;
    return { q, k, x, y };
  }

  private onWheel(e: WheelEvent): void {
    const cell = this.cellAt(e);
    if (!cell) return;
    e.preventDefault();
    const factor = Math.exp(-e.deltaY * 0.0015);
    const before = this.scale;
    this.scale *= factor;
    this.clampView();
    const ratio = this.scale / before;
    this.ox = cell.x - (cell.x - this.ox) * ratio;
    this.oy = cell.y - (cell.y - this.oy) * ratio;
    this.invalidate();
  }

  private onMove(e: PointerEvent): void {
    if (this.drag) {
      const dx = e.clientX - this.drag.x;
      const dy = e.clientY - this.drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) this.drag.moved = true;
      this.ox = this.drag.ox + dx;
      this.oy = this.drag.oy + dy;
      this.invalidate();
      return;
    }
    const cell = this.cellAt(e);
    if (!cell) return;
    const pair = `${this.label(cell.q)} (#${cell.q}) → ${this.label(cell.k)} (#${cell.k})`;
    if (this.matrix) {
      this.readout.textContent = `${pair}: ${this.matrix[cell.q * this.n + cell.k].toFixed(4)}`;
    } else if (this.focusRow && this.focus?.index === cell.q) {
      this.readout.textContent = `${pair}: ${this.focusRow.weights[cell.k].toFixed(4)} (exact row)`;
    } else if (this.overview) {
      const { bin, size, cells } = this.overview;
      const block = cells[Math.floor(cell.q / bin) * size + Math.floor(cell.k / bin)];
      this.readout.textContent = `${pair}: block of ${bin} × ${bin} tokens, mean ${block.toFixed(4)}${this.overview.estimated ? ' (estimated from per-token figures; hover a token for its exact row)' : ''}${this.overview.tileWidth ? ` (from tiles of ${this.overview.tileWidth} tokens; hover a token for its exact row)` : ''}`;
    }
  }

  private onUp(e: PointerEvent): void {
    const drag = this.drag;
    this.drag = null;
    if (drag && !drag.moved) {
      const cell = this.cellAt(e);
      if (cell) this.events.pick(cell.q, cell.k);
    }
  }
}
