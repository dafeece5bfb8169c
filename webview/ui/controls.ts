// The toolbar: layer, head, mode, direction, hide sink, threshold, and export buttons, built with
// @vscode-elements/elements.
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { ExportKind } from '../../src/shared/protocol';
import type { ControlValues } from '../model/viewState';
import { renderLegend } from './legend';
import { el } from './dom';

export interface ControlEvents {
  change(values: Partial<ControlValues>): void;
  export(kind: ExportKind): void;
}

interface SelectLike extends HTMLElement {
  value: string;
  disabled: boolean;
}
interface CheckboxLike extends HTMLElement {
  checked: boolean;
}

function select(
  id: string,
  label: string,
  options: [string, string][],
  onChange: (value: string) => void,
): { field: HTMLElement; select: SelectLike } {
  const s = el('vscode-single-select', { id, 'aria-label': label }) as SelectLike;
  setOptions(s, options);
  s.addEventListener('change', () => onChange(s.value));
  const field = el('label', { class: 'field' }, [el('span', { class: 'field-label' }, [label]), s]);
  return { field, select: s };
}

function setOptions(s: SelectLike, options: [string, string][]): void {
  s.replaceChildren(...options.map(([value, text]) => el('vscode-option', { value }, [text])));
}

export class Controls {
  readonly root: HTMLElement;
  private readonly layer: SelectLike;
  private readonly head: SelectLike;
  private readonly mode: SelectLike;
  private readonly direction: SelectLike;
  private readonly hideSink: CheckboxLike;
  private readonly threshold: HTMLInputElement;
  private readonly thresholdValue: HTMLElement;

  constructor(private readonly events: ControlEvents) {
    const layer = select('layer', 'Layer', [['all', 'All layers']], (v) =>
      this.events.change({ layer: v === 'all' ? 'all' : Number(v) }),
    );
    const head = select(
      'head',
      'Head',
      [
        ['mean', 'Mean'],
        ['max', 'Max'],
      ],
      (v) => this.events.change({ head: v === 'mean' || v === 'max' ? v : Number(v) }),
    );
    const mode = select(
      'mode',
      'Mode',
      [
        ['attention', 'Attention'],
        ['rollout', 'Rollout'],
      ],
      (v) => this.events.change({ mode: v === 'rollout' ? 'rollout' : 'attention' }),
    );
    const direction = select(
      'direction',
      'Show',
      [
        ['to', 'Attends to'],
        ['by', 'Attended by'],
      ],
      (v) => this.events.change({ direction: v === 'by' ? 'by' : 'to' }),
    );
    this.layer = layer.select;
    this.head = head.select;
    this.mode = mode.select;
    this.direction = direction.select;
    layer.field.title = 'All layers: the mean over layers for attention, the full rollout for rollout';
    this.hideSink = el('vscode-checkbox', {
      id: 'hide-sink',
      label: 'Hide sink',
      title: 'Hide the first token (the attention sink) and renormalize each row',
    }) as CheckboxLike;
    this.hideSink.addEventListener('change', () => this.events.change({ hideSink: this.hideSink.checked }));
    this.threshold = el('input', {
      type: 'range',
      id: 'threshold',
      min: 0,
      max: 0.3,
      step: 0.005,
      value: 0,
      'aria-label': 'Threshold',
    });
    this.thresholdValue = el('span', { class: 'threshold-value' }, ['0']);
    this.threshold.addEventListener('input', () => {
      const v = Number(this.threshold.value);
      this.thresholdValue.textContent = v === 0 ? '0' : v.toFixed(3);
      this.events.change({ threshold: v });
    });
    const exportButtons = (['png', 'json', 'html'] as const).map((kind) => {
      const b = el('vscode-button', { secondary: true, 'data-export': kind, title: `Export ${kind.toUpperCase()}` }, [
        kind.toUpperCase(),
      ]);
      b.addEventListener('click', () => this.events.export(kind));
      return b;
    });
    this.root = el('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Attention view' }, [
      layer.field,
      head.field,
      mode.field,
      direction.field,
      el('label', { class: 'field threshold' }, [
        el('span', { class: 'field-label' }, ['Threshold']),
        this.threshold,
        this.thresholdValue,
      ]),
      el('div', { class: 'field sink' }, [this.hideSink]),
      renderLegend(['Attention', 'Rollout', 'Attends to / attended by', 'sink', 'Hide sink', 'Threshold']),
      el('div', { class: 'spacer' }),
      el('div', { class: 'exports', role: 'group', 'aria-label': 'Export' }, exportButtons),
    ]);
  }

  setShape(layers: number, heads: number): void {
    setOptions(this.layer, [
      ['all', 'All layers'],
      ...Array.from({ length: layers }, (_, l): [string, string] => [String(l), `Layer ${l}`]),
    ]);
    setOptions(this.head, [
      ['mean', 'Mean'],
      ['max', 'Max'],
      ...Array.from({ length: heads }, (_, h): [string, string] => [String(h), `Head ${h}`]),
    ]);
  }

  show(values: ControlValues): void {
    this.layer.value = String(values.layer);
    this.head.value = String(values.head);
    this.mode.value = values.mode;
    this.direction.value = values.direction;
    this.head.disabled = values.mode === 'rollout';
    this.hideSink.checked = values.hideSink;
  }
}
