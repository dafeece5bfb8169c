// The answer strip in the panel page as the extension serves it (strict CSP, the real bundle), with a stand-in
// for acquireVsCodeApi: Generate posts a generate request, streamed answer tokens appear after the prompt,
// Stop posts stop-generation, and hovering an answer token shades the prompt token it reads most and names it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { syntheticResult } from '../helpers/syntheticResult';
import { skipWithoutChromium as skip, useBrowser } from './browserLaunch';
import { openPanelPage, posted, send, waitPosted } from './panelPage';
import { outputDir } from './reportFixture';

const browser = useBrowser();

/** Waits for the webview's first posted message of `type` and returns it. */
async function waitPostedType(page: Page, type: string): Promise<Record<string, unknown>> {
  await waitPosted(page, { type });
  const all = (await posted(page)) as unknown as Record<string, unknown>[];
  return all.find((m) => m.type === type) as Record<string, unknown>;
}

/**
 * Streams `words` as answer tokens after a prompt of `promptCount` tokens: token i reads key `keyOf(i)` with
 * weight 1 in both heads of both layers.
 */
async function sendAnswerTokens(
  page: Page,
  promptCount: number,
  words: readonly string[],
  keyOf: (i: number) => number,
): Promise<void> {
  let at = 0;
  for (const [i, text] of words.entries()) {
    const keys = promptCount + i + 1;
    const rows = Array.from({ length: 2 }, () => {
      const r = new Float32Array(2 * keys);
      for (let h = 0; h < 2; h++) r[h * keys + keyOf(i)] = 1;
      return r;
    });
    await send(page, {
      kind: 'answer',
      requestId: 1,
      event: 'token',
      token: { index: i, id: 100 + i, text, start: at, end: at + text.length, keys, rows },
    });
    at += text.length;
  }
}

const PROMPT = 'The capital of France is a city on the Seine. Question: which city? Answer:';

test('answer strip: Generate, streamed tokens, Stop, hover an answer token', { skip }, async () => {
  const { page, errors } = await openPanelPage(browser(), 'answer-strip');
  await waitPostedType(page, 'ready');

  const result = syntheticResult(PROMPT, { layers: 2, heads: 2 });
  const { layers, summary, source, ...header } = result;
  await send(page, { kind: 'source', requestId: 1, source });
  await send(page, { kind: 'header', requestId: 1, header });
  for (const layer of layers) await send(page, { kind: 'layer', requestId: 1, layer });
  await send(page, { kind: 'summary', requestId: 1, summary });
  await page.waitForSelector('.answer-card #generate');

  await page.click('#generate');
  const generate = await waitPostedType(page, 'generate');
  assert.equal(generate.maxTokens, 64);
  assert.equal(generate.temperature, 0);

  const P = header.tokens.length;
  // Each answer token reads prompt token `target` in every head and layer.
  const target = header.tokens.findIndex((t) => t.text.includes('Paris') || t.text.includes('Seine'));
  assert.ok(target > 0);
  const words = [' Paris', ',', ' on', ' the', ' Seine'];
  await send(page, { kind: 'answer', requestId: 1, event: 'start', maxTokens: 64, temperature: 0, seed: 1 });
  await page.waitForSelector('#stop-generation:not([hidden])');
  await sendAnswerTokens(page, P, words, () => target);
  await page.waitForFunction(() => document.querySelectorAll('.answer-tokens [data-token-index]').length === 5);
  assert.match((await page.textContent('.answer-status')) ?? '', /Generating… 5 of at most 64 tokens/);
  await page.click('#stop-generation');
  await waitPostedType(page, 'stop-generation');
  await send(page, { kind: 'answer', requestId: 1, event: 'end', stopped: true });
  await page.waitForSelector('#generate:not([hidden])');
  assert.match((await page.textContent('.answer-status')) ?? '', /5 tokens \(stopped\)/);
  // A stopped answer is asked for again up to the tokens it has (greedy or seeded: the same ones).
  assert.deepEqual(((await page.evaluate('window.__state')) as { answer?: unknown }).answer, {
    maxTokens: 5,
    temperature: 0,
    seed: 1,
  });
  assert.equal(await page.textContent('.answer-tokens'), words.join(''));

  await page.hover('.answer-tokens [data-token-index="2"]');
  await page.waitForFunction(
    (t) =>
      document.querySelector<HTMLElement>(`.tokens:not(.answer-tokens) [data-token-index="${t}"]`)?.dataset.weight ===
      '1.000',
    target,
  );
  assert.match((await page.textContent('.focus-line')) ?? '', /Answer token " on" \(#2\) reads .* most \(100\.0%\)/);

  // Selecting " the Seine" (tokens 3 and 4) asks the host to attribute characters 10..20 of the answer.
  await page.mouse.move(0, 0);
  const box3 = await page.locator('.answer-tokens [data-token-index="3"]').boundingBox();
  const box4 = await page.locator('.answer-tokens [data-token-index="4"]').boundingBox();
  assert.ok(box3 && box4);
  await page.mouse.move(box3.x + 2, box3.y + box3.height / 2);
  await page.mouse.down();
  await page.mouse.move(box4.x + box4.width - 2, box4.y + box4.height / 2);
  await page.mouse.up();
  const span = await waitPostedType(page, 'attribute-span');
  assert.deepEqual([span.start, span.end], [10, 20]);
  await send(page, {
    kind: 'answer',
    requestId: 1,
    event: 'attributing',
    message: 'Attributing the selection: Ablation 1 of 1',
  });
  await page.waitForFunction(() =>
    /Ablation 1 of 1/.test(document.querySelector('.answer-attribution')?.textContent ?? ''),
  );
  await send(page, {
    kind: 'answer',
    requestId: 1,
    event: 'attribution',
    span: { start: 10, end: 20, text: ' the Seine' },
    sections: [
      {
        start: 0,
        logProbDelta: -3.2,
        words: 'the answer becomes 3.20 nats (24.5×) less likely without it',
        disagreement: 'the answer depends on it more than its attention suggests',
      },
    ],
    verdict: 'The model uses the prompt for this answer.',
    passed: true,
  });
  await page.waitForSelector('.sections-list.with-span .section-span.disagree');
  assert.equal(await page.textContent('.section-span'), '−3.20 nats ≠');
  assert.match(
    (await page.getAttribute('.section-span', 'title')) ?? '',
    /3\.20 nats \(24\.5×\) less likely without it/,
  );
  await page.screenshot({ path: path.join(outputDir, 'answer-strip.png') });
  assert.deepEqual(errors, []);
  assert.deepEqual(await page.evaluate('window.__csp'), [], 'no CSP violation');
});

test(
  'answer strip: a text with ---answer--- offers its given answer, read tokens hover like generated ones',
  { skip },
  async () => {
    const { page, errors } = await openPanelPage(browser(), 'answer-strip-given');
    await waitPostedType(page, 'ready');

    const result = syntheticResult(`${PROMPT}\n---answer---\nParis.`, { layers: 2, heads: 2 });
    const { layers, summary, source, ...header } = result;
    await send(page, { kind: 'source', requestId: 1, source });
    await send(page, { kind: 'header', requestId: 1, header });
    for (const layer of layers) await send(page, { kind: 'layer', requestId: 1, layer });
    await send(page, { kind: 'summary', requestId: 1, summary });
    await page.waitForSelector('#read-answer:not([hidden])');
    assert.match((await page.textContent('.answer-status')) ?? '', /Given answer reads the text after ---answer---/);
    await page.click('#read-answer');
    await waitPostedType(page, 'read-answer');

    // The given answer's rows hold the prompt before the separator line, then the answer's tokens.
    const P = header.tokens.filter((t) => t.end <= PROMPT.length).length;
    assert.ok(P < header.tokens.length);
    const target = header.tokens.findIndex((t) => t.text.includes('Seine'));
    await send(page, { kind: 'answer', requestId: 1, event: 'start', maxTokens: 0, given: true });
    await page.waitForFunction(() =>
      /Reading the given answer/.test(document.querySelector('.answer-status')?.textContent ?? ''),
    );
    const words = [' Paris', '.'];
    await sendAnswerTokens(page, P, words, (i) => (i === 0 ? target : P));
    await send(page, { kind: 'answer', requestId: 1, event: 'end' });
    await page.waitForFunction(() =>
      /2 tokens of the given answer/.test(document.querySelector('.answer-status')?.textContent ?? ''),
    );
    // The panel's saved state asks for the same answer after a window reload.
    assert.deepEqual(((await page.evaluate('window.__state')) as { answer?: unknown }).answer, { given: true });
    await page.hover('.answer-tokens [data-token-index="0"]');
    await page.waitForFunction(
      (t) =>
        document.querySelector<HTMLElement>(`.tokens:not(.answer-tokens) [data-token-index="${t}"]`)?.dataset.weight ===
        '1.000',
      target,
    );
    // The second token reads the first answer token: key P is the answer's token 0, not prompt token P.
    await page.hover('.answer-tokens [data-token-index="1"]');
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('.answer-tokens [data-token-index="0"]')?.dataset.weight === '1.000',
    );
    assert.match((await page.textContent('.focus-line')) ?? '', /Answer token "\." \(#1\) reads " Paris" most/);
    assert.deepEqual(errors, []);
  },
);
