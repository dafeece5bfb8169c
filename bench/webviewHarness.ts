// Runs inside Chromium next to the real webview bundle (which sees a stub acquireVsCodeApi, so it boots
// as the VS Code panel). It delivers a real inspection as the host's messages and times, with
// performance.now() in the page: data arrival → first paint, and hover → painted frame.
//
// "Painted frame" = the end of the main-thread work of the frame that shows the change: our
// requestAnimationFrame callback runs after the app's (callbacks run in registration order) and forces
// style and layout; raster and compositing run off the main thread. The wait for the next vsync is not
// counted: it is the display's clock, not the inspector's work (at 60 Hz it adds 0-16.7 ms, uniformly).
import { eventTransferList } from '../src/shared/protocol';
import { resultEvents } from '../src/shared/resultEvents';
import { decodeInspectionResult } from '../src/shared/resultCodec';

export interface DeliveryTimes {
  readonly tokens: number;
  /** Message posted → end of the first frame that shows the tokens. */
  readonly firstPaintMs: number;
  /** Message posted → end of the first frame after every message was handled (matrix and head grid drawn). */
  readonly readyMs: number;
}

export interface HoverTimes {
  readonly samples: number[];
  /** Hovers whose frame did not show the focus on the hovered token (should be 0). */
  readonly missed: number;
}

export interface ScrollTimes {
  /** Per scroll step: main-thread work of the frame that shows it (rAF callbacks, style, layout, paint). */
  readonly samples: number[];
  /** Elements in the document, and token elements, at the end. */
  readonly domNodes: number;
  readonly tokenElements: number;
  /** Whether the last token was on screen after scrolling to the end. */
  readonly endShown: boolean;
}

declare global {
  interface Window {
    __benchDeliver(): Promise<DeliveryTimes>;
    __benchHover(count: number, warmups: number, seed: number): Promise<HoverTimes>;
    __benchAnswerHover(answerTokens: number, count: number, warmups: number, seed: number): Promise<HoverTimes>;
    __benchScroll(steps: number): Promise<ScrollTimes>;
  }
}

const nextFrame = (work: () => void): Promise<number> =>
  new Promise((resolve) =>
    requestAnimationFrame(() => {
      work();
      void document.documentElement.offsetHeight; // style + layout of this frame, now
      resolve(performance.now());
    }),
  );

window.__benchDeliver = async (): Promise<DeliveryTimes> => {
  const result = decodeInspectionResult(document.getElementById('bench-data')?.textContent ?? '');
  const n = result.tokens.length;
  const messages = resultEvents(result).map((message) => ({ message, transfer: eventTransferList(message) }));
  // Let the page settle (fonts, first layout of the empty panel) before the clock starts.
  await nextFrame(() => undefined);
  await nextFrame(() => undefined);
  // The token view says how many tokens it holds (long texts keep only those near the screen as elements).
  const shown = (): boolean => document.querySelector('.tokens')?.getAttribute('data-tokens') === String(n);
  return new Promise<DeliveryTimes>((resolve) => {
    let firstPaintMs = Number.NaN;
    const started = performance.now();
    const watchTokens = (): void => {
      void nextFrame(() => undefined).then((at) => {
        if (!Number.isNaN(firstPaintMs)) return;
        if (shown() || document.getElementById(`tok-${n - 1}`)) firstPaintMs = at - started;
        else watchTokens();
      });
    };
    watchTokens();
    // Messages are handled in order: when the sentinel arrives, every message before it was.
    window.addEventListener('message', function sentinel(event: MessageEvent<unknown>) {
      if ((event.data as { type?: string } | null)?.type !== 'bench-sentinel') return;
      window.removeEventListener('message', sentinel);
      void nextFrame(() => undefined).then((at) => resolve({ tokens: n, firstPaintMs, readyMs: at - started }));
    });
    for (const { message, transfer } of messages) window.postMessage(message, '*', transfer);
    window.postMessage({ type: 'bench-sentinel' }, '*');
  });
};

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Hovers `tokens` at random (never the same one twice in a row), `warmups` times unmeasured then `count` times:
 * each sample is the pointerover handler's time plus the frame's work, from the first rAF callback of the frame
 * (ours, registered before the app's) to the end of style and layout after the app's callback. A hover is missed
 * when `shown(index)` is false after that frame.
 */
async function hoverAtRandom(
  tokens: readonly HTMLElement[],
  shown: (index: number) => boolean,
  count: number,
  warmups: number,
  seed: number,
): Promise<HoverTimes> {
  const random = seeded(seed);
  const samples: number[] = [];
  let missed = 0;
  let previous = -1;
  for (let i = 0; i < warmups + count; i++) {
    let index = Math.floor(random() * tokens.length);
    if (index === previous) index = (index + 1) % tokens.length;
    previous = index;
    let frameStart = 0;
    requestAnimationFrame(() => (frameStart = performance.now()));
    const t0 = performance.now();
    tokens[index].dispatchEvent(new PointerEvent('pointerover', { bubbles: true, pointerType: 'mouse' }));
    const handled = performance.now();
    let wasShown = false;
    const frameEnd = await nextFrame(() => (wasShown = shown(index)));
    if (i < warmups) continue;
    if (!wasShown) missed++;
    samples.push(handled - t0 + (frameEnd - frameStart));
  }
  return { samples, missed };
}

window.__benchHover = (count: number, warmups: number, seed: number): Promise<HoverTimes> => {
  const tokens = [...document.querySelectorAll<HTMLElement>('[data-token-index]')];
  return hoverAtRandom(tokens, (index) => tokens[index].classList.contains('focus'), count, warmups, seed);
};

/**
 * The answer strip: `answerTokens` generated tokens arrive as the host sends them (each with its rows, per
 * layer heads × keys over the prompt and the answer before it, here uniform over the keys), then answer tokens
 * are hovered at random; a hover is shown when the focus line names the hovered answer token.
 */
window.__benchAnswerHover = async (
  answerTokens: number,
  count: number,
  warmups: number,
  seed: number,
): Promise<HoverTimes> => {
  const result = decodeInspectionResult(document.getElementById('bench-data')?.textContent ?? '');
  const P = result.tokens.length;
  const { layers, heads } = result.model;
  const requestId = result.requestId;
  window.postMessage({ kind: 'answer', requestId, event: 'start', maxTokens: answerTokens }, '*');
  let at = 0;
  for (let i = 0; i < answerTokens; i++) {
    const keys = P + i + 1;
    const rows = Array.from({ length: layers }, () => new Float32Array(heads * keys).fill(1 / keys));
    const text = ` w${i}`;
    const token = { index: i, id: 100 + i, text, start: at, end: at + text.length, keys, rows };
    at += text.length;
    window.postMessage(
      { kind: 'answer', requestId, event: 'token', token },
      '*',
      rows.map((r) => r.buffer),
    );
  }
  window.postMessage({ kind: 'answer', requestId, event: 'end' }, '*');
  const tokens = await new Promise<HTMLElement[]>((resolve) => {
    const poll = (): void => {
      const found = [...document.querySelectorAll<HTMLElement>('.answer-tokens [data-token-index]')];
      if (found.length === answerTokens) resolve(found);
      else requestAnimationFrame(poll);
    };
    poll();
  });
  const focusLine = document.querySelector('.focus-line');
  const shown = (index: number): boolean => (focusLine?.textContent ?? '').includes(`(#${index})`);
  return hoverAtRandom(tokens, shown, count, warmups, seed);
};

/** A task after the current frame's rendering work (style, layout, paint on the main thread). */
const afterFrame = (): Promise<number> =>
  new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve(performance.now());
    channel.port2.postMessage(null);
  });

/**
 * Scrolls the token view down by a third of its height per step, `steps` times, then to the very end. A sample is
 * the frame that handles the scroll: from its first rAF callback (the scroll event ran just before) to a task
 * queued there, which runs once the frame's rAF callbacks, style, layout and paint are done.
 */
window.__benchScroll = async (steps: number): Promise<ScrollTimes> => {
  const view = document.querySelector<HTMLElement>('.tokens');
  if (!view) throw new Error('no token view');
  view.scrollTop = 0;
  await nextFrame(() => undefined);
  await nextFrame(() => undefined);
  const samples: number[] = [];
  for (let i = 0; i < steps; i++) {
    await nextFrame(() => (view.scrollTop += Math.max(40, view.clientHeight / 3)));
    const sample = await new Promise<number>((resolve) =>
      requestAnimationFrame(() => {
        const start = performance.now();
        void afterFrame().then((end) => resolve(end - start));
      }),
    );
    samples.push(sample);
  }
  for (let i = 0; i < 4; i++) await nextFrame(() => (view.scrollTop = view.scrollHeight));
  const tokens = view.querySelectorAll<HTMLElement>('[data-token-index]');
  const n = Number(view.dataset.tokens ?? tokens.length);
  const final = view.querySelector<HTMLElement>(`[data-token-index="${n - 1}"]`);
  const box = view.getBoundingClientRect();
  const at = final?.getBoundingClientRect();
  const endShown = !!at && at.bottom <= box.bottom + 1 && at.top >= box.top - 1;
  return {
    samples,
    domNodes: document.getElementsByTagName('*').length,
    tokenElements: tokens.length,
    endShown,
  };
};
