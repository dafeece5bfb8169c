// Progress (with cancel), stale (with re-run) and error banners above the toolbar. The error banner carries
// its actions (Retry, Choose a model…, Open Settings) and says when the result below is the previous one.
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import { progressText } from '../../src/shared/progressText';
import type { PanelCommand } from '../../src/shared/protocol';
import type { InspectionState } from '../model/inspectionState';
import { el } from './dom';

export interface BannerEvents {
  cancel(): void;
  rerun(): void;
  /** A button that runs a VS Code command through the host (the model picker, the settings). */
  command(command: PanelCommand): void;
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
  private readonly errorPrevious: HTMLElement;

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
    this.errorText = el('span', { class: 'banner-message' });
    this.errorPrevious = el('span', { class: 'banner-previous', hidden: true }, [
      'Below: the previous result, now stale.',
    ]);
    this.error = el('div', { class: 'banner error', hidden: true, role: 'alert' }, [
      el('span', { class: 'banner-text' }, [this.errorText, ' ', this.errorPrevious]),
      ...(hasHost
        ? [
            el('span', { class: 'banner-actions' }, [
              button('Retry', events.rerun, { id: 'retry' }),
              button('Choose a model…', () => events.command('choose-model'), { secondary: '', id: 'choose-model' }),
              button('Open Settings', () => events.command('open-settings'), { secondary: '', id: 'open-settings' }),
            ]),
          ]
        : []),
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
    this.stale.hidden = !state.stale || running || state.phase === 'error';
    this.error.hidden = state.phase !== 'error';
    this.errorText.textContent = state.error ?? '';
    this.errorPrevious.hidden = state.previous !== true;
  }
}
