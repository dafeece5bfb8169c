// The panel page exactly as the extension serves it (buildPanelHtml: strict CSP, nonce'd bundle from dist/),
// with a stand-in for acquireVsCodeApi: the ready handshake, streamed layers, progress and cancel, the stale
// banner and re-run, focus from the editor, focus/export messages to the host, and no CSP violation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { syntheticResult } from '../helpers/syntheticResult';
import { skipWithoutChromium as skip, useBrowser } from './browserLaunch';
import { openPanelPage, posted, send, waitPosted } from './panelPage';
import { hostilePrompt, outputDir } from './reportFixture';

const browser = useBrowser();

test('panel page: strict CSP, handshake, streaming, cancel, stale, editor focus, exports', { skip }, async () => {
  const { page, context, errors } = await openPanelPage(browser(), 'panel-webview');

  await page.waitForFunction(() => (window as unknown as { __posted: unknown[] }).__posted.length > 0);
  assert.deepEqual((await posted(page))[0], { type: 'ready' }, 'the webview says ready before anything else');
  assert.ok(await page.isVisible('.empty'));

  const result = syntheticResult(hostilePrompt, { layers: 3, heads: 4 });
  const { layers, summary, source, cost, ...header } = result;
  await send(page, { kind: 'source', requestId: 1, source });
  await send(page, { kind: 'progress', requestId: 1, stage: 'load' });
  await page.waitForSelector('.banner.progress:not([hidden])');
  assert.match((await page.textContent('.banner.progress .banner-text')) ?? '', /Loading the model/);

  // The header, then the first layer: its thumbnails are drawn while later layers are still pending.
  await send(page, { kind: 'header', requestId: 1, header });
  await send(page, { kind: 'layer', requestId: 1, layer: layers[0] });
  if (cost) await send(page, { kind: 'cost', requestId: 1, cost });
  await page.waitForFunction(() => document.querySelectorAll('.hg-cell[data-layer="0"]:not(.pending)').length === 4);
  assert.equal(await page.$$eval('.hg-cell.pending', (e) => e.length), 8);
  assert.match((await page.textContent('.banner.progress .banner-text')) ?? '', /Layers 1 of 3/);
  await page.hover('[data-token-index="12"]');
  await page.waitForFunction(() =>
    [...document.querySelectorAll<HTMLElement>('[data-token-index]')].some((e) => e.dataset.weight !== '0'),
  );
  await page.screenshot({ path: path.join(outputDir, 'panel-streaming.png') });

  // Cancel goes to the host.
  await page.click('#cancel');
  await waitPosted(page, { type: 'cancel' });

  await send(page, { kind: 'layer', requestId: 1, layer: layers[1] });
  await send(page, { kind: 'layer', requestId: 1, layer: layers[2] });
  await send(page, { kind: 'summary', requestId: 1, summary });
  await page.waitForSelector('.banner.progress', { state: 'hidden' });
  assert.equal(await page.$$eval('.hg-cell.pending', (e) => e.length), 0);
  assert.deepEqual(await page.evaluate('window.__state'), {
    uri: undefined,
    offset: 0,
    length: hostilePrompt.length,
    label: 'prompt.md',
  });

  // A stale result offers one-click re-run.
  await send(page, { kind: 'stale', stale: true });
  await page.waitForSelector('.banner.stale:not([hidden])');
  await page.click('#rerun');
  await waitPosted(page, { type: 'rerun', requestId: 1 });

  // A resting hover tells the host what the token attends to (decorations, no scrolling).
  await page.hover('[data-token-index="15"]');
  await waitPosted(page, { type: 'focus', index: 15 });
  const hovered = (await posted(page)).find((m) => m.type === 'focus' && m.index === 15);
  assert.ok(hovered && hovered.type === 'focus' && hovered.reveal === false && hovered.attended.length > 0);
  // The editor cursor focuses a token (no scrolling back); a click pins one and asks the editor to reveal it.
  await send(page, { kind: 'focus-token', index: 7 });
  await page.waitForFunction(() => document.querySelector('.tok.focus')?.getAttribute('data-token-index') === '7');
  await waitPosted(page, { type: 'focus', index: 7, reveal: false });
  await page.click('[data-token-index="20"]');
  await waitPosted(page, { type: 'focus', index: 20 });
  const focus = (await posted(page)).find((m) => m.type === 'focus' && m.index === 20);
  assert.ok(
    focus &&
      focus.type === 'focus' &&
      focus.reveal === true &&
      focus.attended.length > 0 &&
      focus.attended.every((a) => a.index <= 20 && a.weight > 0),
  );

  // PNG export sends a data URL; JSON asks the host.
  await page.click('vscode-button[data-export="png"]');
  await page.click('vscode-button[data-export="json"]');
  await page.waitForFunction(
    () =>
      (window as unknown as { __posted: { type: string }[] }).__posted.filter((m) => m.type === 'export').length === 2,
  );
  const exports = (await posted(page)).filter((m) => m.type === 'export');
  assert.ok(
    exports[0].type === 'export' &&
      exports[0].kind === 'png' &&
      /^data:image\/png;base64,/.test(exports[0].pngDataUrl ?? ''),
  );
  assert.deepEqual(exports[1], { type: 'export', kind: 'json', requestId: 3 });
  // The host's replies are matched to their request by id.
  const pngRequest = exports[0].type === 'export' ? exports[0].requestId : -1;
  await send(page, { kind: 'reply', inReplyTo: pngRequest, outcome: 'done', message: 'out.png' });
  await page.waitForFunction(() =>
    /Exported PNG: out\.png/.test(document.querySelector('.focus-line')?.textContent ?? ''),
  );

  // An error from a newer request replaces the view's status.
  await send(page, { kind: 'error', requestId: 2, message: 'The text is empty.' });
  await page.waitForSelector('.banner.error:not([hidden])');

  assert.deepEqual(await page.evaluate('window.__csp'), [], 'no CSP violation under default-src none');
  assert.deepEqual(errors, []);
  assert.equal(await page.evaluate('window.__pwned'), undefined);
  await context.close();
});

test('panel page: a hovered token asks for its exact rows and shades from them', { skip }, async () => {
  const { page, context } = await openPanelPage(browser(), 'panel-exact-rows');
  const result = syntheticResult(hostilePrompt, { layers: 3, heads: 4 });
  const { layers, summary, source, cost: _cost, ...header } = result;
  await send(page, { kind: 'source', requestId: 1, source });
  await send(page, { kind: 'header', requestId: 1, header });
  for (const layer of layers) await send(page, { kind: 'layer', requestId: 1, layer });
  await send(page, { kind: 'summary', requestId: 1, summary });
  const query = 20;
  await page.hover(`[data-token-index="${query}"]`);
  // The mean over layers and heads (the default controls): one request per layer.
  for (let layer = 0; layer < 3; layer++) await waitPosted(page, { type: 'attention-row', layer, query, head: null });
  const n = header.tokens.length;
  for (const request of (await posted(page)).filter((m) => m.type === 'attention-row')) {
    if (request.type !== 'attention-row') continue;
    const weights = new Float32Array(n);
    weights[3] = 0.75; // every layer's exact row: token 3 most, token 7 the rest
    weights[7] = 0.25;
    const { requestId, inspection, layer, head } = request;
    await send(page, { kind: 'attention-row', inReplyTo: requestId, inspection, layer, head, query, weights });
  }
  await page.waitForFunction(() => document.querySelector('.focus-line')?.textContent?.includes('exact row'));
  const shaded = await page.$$eval('[data-token-index]', (nodes) =>
    nodes.map((node) => Number((node as HTMLElement).dataset.weight ?? '0')),
  );
  const lit = shaded.flatMap((w, i) => (w > 0 ? [i] : []));
  assert.deepEqual(lit, [3, 7], `shaded: ${lit.join(',')}`);
  assert.ok(shaded[3] > shaded[7]);
  // A new hover asks for its rows at once, in the pointer event, not in the frame that draws it (the reply
  // then has that frame's time to arrive).
  const askedAtOnce = await page.evaluate((index) => {
    const posts = (window as unknown as { __posted: { type: string; query?: number }[] }).__posted;
    const target = document.querySelector(`[data-token-index="${index}"]`);
    target?.dispatchEvent(new PointerEvent('pointerover', { bubbles: true, pointerType: 'mouse' }));
    return posts.filter((m) => m.type === 'attention-row' && m.query === index).length;
  }, 25);
  assert.equal(askedAtOnce, 3, 'one request per layer, posted during the pointer event');
  await context.close();
});
