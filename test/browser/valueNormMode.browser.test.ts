// The "Attention × value norm" mode in Chromium, on the panel page as the extension serves it: the mode control
// offers it beside Attention and Rollout with its definition in the tooltip, and choosing it changes what is
// drawn — a key whose value vector is large (its norm in the layer's valueNorms) gains weight in the focused
// token's shading; back to Attention, the shading returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerAttention } from '../../src/shared/protocol';
import { syntheticResult } from '../helpers/syntheticResult';
import { skipWithoutChromium as skip, useBrowser } from './browserLaunch';
import { openPanelPage, send } from './panelPage';

const browser = useBrowser();

test('choosing attention × value norm changes the focused token’s shading', { skip }, async () => {
  const { page, context, errors } = await openPanelPage(browser(), 'value-norm-mode');
  const result = syntheticResult('Rules: answer briefly and cite the source of every claim you make.', {
    layers: 2,
    heads: 2,
  });
  const { layers, summary, source, ...header } = result;
  const n = header.tokens.length;
  const heavy = 2;
  // Every head's keys write 1, except key `heavy`, whose value vector is 50 times larger.
  const norms = new Float32Array(2 * n).fill(1);
  norms[heavy] = norms[n + heavy] = 50;
  await send(page, { kind: 'source', requestId: 1, source });
  await send(page, { kind: 'header', requestId: 1, header });
  for (const layer of layers)
    await send(page, { kind: 'layer', requestId: 1, layer: { ...layer, valueNorms: norms } as LayerAttention });
  await send(page, { kind: 'summary', requestId: 1, summary });
  await page.waitForSelector('#mode');
  // The mode's definition is its field's tooltip.
  assert.match((await page.getAttribute('label.field:has(#mode)', 'title')) ?? '', /α_ij·‖v_j W_O\^h‖/);

  const focus = n - 1;
  await page.click(`.tokens:not(.answer-tokens) [data-token-index="${focus}"]`);
  const weightOf = (k: number): Promise<number> =>
    page
      .getAttribute(`.tokens:not(.answer-tokens) [data-token-index="${k}"]`, 'data-weight')
      .then((w) => Number(w ?? 0));
  await page.waitForFunction(() => document.querySelectorAll('[data-weight]:not([data-weight="0"])').length > 0);
  const plain = await weightOf(heavy);
  const setMode = (mode: string): Promise<unknown> =>
    page.evaluate(
      `(() => { const s = document.querySelector('#mode'); s.value = '${mode}'; s.dispatchEvent(new Event('change')); })()`,
    );
  await setMode('value-norm');
  await page.waitForFunction(
    ([k, before]) =>
      Number(
        document.querySelector(`.tokens:not(.answer-tokens) [data-token-index="${k}"]`)?.getAttribute('data-weight') ??
          0,
      ) >
      before + 0.05,
    [heavy, plain] as const,
  );
  const weighted = await weightOf(heavy);
  assert.ok(weighted > plain, `key ${heavy}: ${plain} → ${weighted}`);
  await setMode('attention');
  await page.waitForFunction(
    ([k, before]) =>
      Math.abs(
        Number(
          document
            .querySelector(`.tokens:not(.answer-tokens) [data-token-index="${k}"]`)
            ?.getAttribute('data-weight') ?? 0,
        ) - before,
      ) < 1e-3,
    [heavy, plain] as const,
  );
  assert.deepEqual(errors, []);
  await context.close();
});
