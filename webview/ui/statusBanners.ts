// Progress (with cancel), stale (with re-run) and error banners above the toolbar.
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import { progressText } from '../../src/shared/progressText';
import type { InspectionState } from '../model/inspectionState';
import { el } from './dom';

export interface BannerEvents {
  cancel(): void;
  rerun(): void;
}

interface ProgressLike extends HTMLElement {
  value: number | undefined;
  indeterminate: boolean;
}

export class StatusBanners {
  readonly root: HTMLElement;
  private readonly progress: HTMLElement;
  private readonly progressText: HTMLElement;
  private readonly bar: ProgressLike;
  private readonly stale: HTMLElement;
  private readonly error: HTMLElement;
  private readonly errorText: HTMLElement;

  constructor(events: BannerEvents, hasHost: boolean) {
    const button = (label: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLElement => {
      const b = el('vscode-button', attrs, [label]);
      b.addEventListener('click', onClick);
      return b;
    };
    this.progressText = el('span', { class: 'banner-text' }, ['Starting…']);
    this.bar = el('vscode-progress-bar', { class: 'progress-bar' }) as ProgressLike;
    this.progress = el('div', { class: 'banner progress', hidden: true, role: 'status' }, [
      el('div', { class: 'banner-row' }, [
        this.progressText,
        hasHost ? button('Cancel', events.cancel, { secondary: '', id: 'cancel' }) : el('span'),
      ]),
      this.bar,
    ]);
    this.stale = el('div', { class: 'banner stale', hidden: true, role: 'status' }, [
      el('span', { class: 'banner-text' }, ['The text changed since this inspection.']),
      button('Re-run', events.rerun, { id: 'rerun' }),
    ]);
    this.errorText = el('span', { class: 'banner-text' });
    this.error = el('div', { class: 'banner error', hidden: true, role: 'alert' }, [
      this.errorText,
      hasHost ? button('Retry', events.rerun, { secondary: '' }) : el('span'),
    ]);
    this.root = el('div', { class: 'banners' }, [this.progress, this.stale, this.error]);
  }

  show(state: InspectionState): void {
    const running = state.phase === 'running';
    this.progress.hidden = !running;
    if (running) {
      const layers = state.layers.filter(Boolean).length;
      const total = state.header?.model.layers ?? 0;
      const stage = state.header
        ? layers
          ? `Layers ${layers} of ${total}`
          : 'Running the model…'
        : state.progress
          ? progressText(state.progress)
          : 'Starting…';
      this.progressText.textContent = stage;
      const fraction = state.header && total ? layers / total : state.progress?.fraction;
      this.bar.indeterminate = fraction === undefined;
      if (fraction !== undefined) this.bar.value = Math.round(fraction * 100);
    }
    this.stale.hidden = !state.stale || running;
    this.error.hidden = state.phase !== 'error';
    this.errorText.textContent = state.error ?? '';
  }
}
