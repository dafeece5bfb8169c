// Layers × heads thumbnails, each a small heatmap with its role; a click selects that layer and head. Each is
// painted on one shared canvas and shown as a background image: hundreds of canvases in the page are each a
// composited layer, and every change anywhere in the panel (a long text's scroll window) then costs a frame to
// layerize.
import type { HeadRole, HeadSummary, LayerAttention } from '../../src/shared/protocol';
import { heatmapCeiling } from '../model/colorScale';
import { layerHeadThumbnail } from '../model/thumbnail';
import { el } from './dom';

const THUMB = 44;

const roleShort: Record<HeadRole, string> = {
  'previous-token': 'prev',
  sink: 'sink',
  induction: 'induct',
  local: 'local',
  broad: 'broad',
};

export interface HeadGridEvents {
  select(layer: number, head: number): void;
}

export class HeadGrid {
  readonly root: HTMLElement;
  private cells: HTMLButtonElement[][] = [];
  private lut: Uint8ClampedArray | null = null;
  private layers: readonly (LayerAttention | undefined)[] = [];
  private readonly painter = document.createElement('canvas');

  constructor(private readonly events: HeadGridEvents) {
    this.root = el('div', { class: 'head-grid', role: 'grid', 'aria-label': 'Heads by layer' });
    this.root.addEventListener('click', (e) => {
      const cell = e.target instanceof Element ? e.target.closest<HTMLElement>('[data-head]') : null;
      if (cell) this.events.select(Number(cell.dataset.layer), Number(cell.dataset.head));
    });
  }

  setShape(layers: number, heads: number): void {
    this.root.style.setProperty('--heads', String(heads));
    const rows: HTMLElement[] = [
      el('div', { class: 'hg-corner' }),
      ...Array.from({ length: heads }, (_, h) => el('div', { class: 'hg-col' }, [`H${h}`])),
    ];
    this.cells = [];
    for (let l = 0; l < layers; l++) {
      rows.push(el('div', { class: 'hg-row' }, [`L${l}`]));
      const row: HTMLButtonElement[] = [];
      for (let h = 0; h < heads; h++) {
        const thumbnail = el('span', { class: 'hg-thumb' });
        const cell = el(
          'button',
          {
            class: 'hg-cell pending',
            'data-layer': l,
            'data-head': h,
            'aria-pressed': 'false',
            title: `Layer ${l}, head ${h}`,
          },
          [thumbnail, el('span', { class: 'hg-role' }, ['…'])],
        );
        row.push(cell);
        rows.push(cell);
      }
      this.cells.push(row);
    }
    this.root.replaceChildren(...rows);
    this.layers = [];
  }

  setLut(lut: Uint8ClampedArray): void {
    this.lut = lut;
    this.layers.forEach((layer) => layer && this.drawLayer(layer));
  }

  setLayer(layer: LayerAttention, layers: readonly (LayerAttention | undefined)[]): void {
    this.layers = layers;
    this.drawLayer(layer);
  }

  setRoles(heads: readonly HeadSummary[]): void {
    for (const s of heads) {
      const cell = this.cells[s.layer]?.[s.head];
      if (!cell) continue;
      const role = cell.querySelector('.hg-role');
      if (role) role.textContent = roleShort[s.role];
      cell.dataset.role = s.role;
      const sc = s.scores;
      cell.title = `Layer ${s.layer}, head ${s.head}: ${s.role}\nprevious-token ${sc.previousToken.toFixed(2)} · sink ${sc.sink.toFixed(2)} · induction ${sc.induction.toFixed(2)} · local ${sc.local.toFixed(2)} · broad ${sc.broad.toFixed(2)}`;
      cell.setAttribute('aria-label', `Layer ${s.layer} head ${s.head}, ${s.role}`);
    }
  }

  /** Marks the selected cell(s): one head, or a whole layer/all layers when aggregated. */
  setSelection(layer: number | 'all', head: number | 'mean' | 'max', enabled: boolean): void {
    this.cells.forEach((row, l) =>
      row.forEach((cell, h) => {
        const on = enabled && (layer === 'all' || layer === l) && (typeof head !== 'number' || head === h);
        cell.classList.toggle('selected', on && typeof head === 'number' && layer !== 'all');
        cell.classList.toggle('included', on);
        cell.setAttribute('aria-pressed', String(on && typeof head === 'number' && layer !== 'all'));
      }),
    );
  }

  private drawLayer(layer: LayerAttention): void {
    const row = this.cells[layer.layer];
    if (!row || !this.lut) return;
    const lut32 = new Uint32Array(this.lut.buffer, this.lut.byteOffset, 256);
    row.forEach((cell, h) => {
      const thumb = layerHeadThumbnail(layer, h, THUMB);
      const cells = Math.round(Math.sqrt(thumb.length));
      const max = heatmapCeiling(thumb);
      const image = new ImageData(cells, cells);
      const px = new Uint32Array(image.data.buffer);
      for (let i = 0; i < thumb.length; i++)
        px[i] = lut32[max > 0 ? Math.min(255, ((thumb[i] / max) * 255 + 0.5) | 0) : 0];
      const thumbnail = cell.querySelector<HTMLElement>('.hg-thumb');
      if (!thumbnail) return;
      this.painter.width = cells;
      this.painter.height = cells;
      this.painter.getContext('2d')?.putImageData(image, 0, 0);
      thumbnail.style.backgroundImage = `url(${this.painter.toDataURL()})`;
      cell.classList.remove('pending');
    });
  }
}
