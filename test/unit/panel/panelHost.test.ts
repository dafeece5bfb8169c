import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TokenInfo } from '../../../src/shared/protocol';
import { InspectionRecord, decorationBucket, tokenAtOffset } from '../../../src/panel/inspectionRecord';
import { readInspectorSettings } from '../../../src/panel/inspectorSettings';
import { buildPanelHtml, makeNonce, panelCsp } from '../../../src/panel/panelHtml';
import { isInspectorPanelState } from '../../../src/shared/panelState';
import { syntheticResult } from '../../helpers/syntheticResult';

test('the panel HTML has a strict CSP and loads only the nonce’d bundle from dist', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{16,}$/);
  assert.notEqual(nonce, makeNonce());
  const csp = panelCsp('https://file+.vscode-resource.vscode-cdn.net', nonce);
  assert.match(csp, /^default-src 'none'; /);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce}'$`));
  assert.ok(!csp.includes('unsafe'));
  const html = buildPanelHtml({
    cspSource: 'vscode-webview:',
    scriptUri: 'vscode-webview://x/dist/webview.js',
    styleUri: 'vscode-webview://x/dist/webview.css',
    nonce,
  });
  assert.equal(html.match(/<script/g)?.length, 1);
  assert.ok(html.includes(`<script nonce="${nonce}" src="vscode-webview://x/dist/webview.js">`));
  assert.ok(html.includes('href="vscode-webview://x/dist/webview.css"'));
});

test('settings: defaults, bounds and the token window', () => {
  const defaults = readInspectorSettings(() => undefined);
  assert.deepEqual(defaults, {
    model: '',
    modelDtype: 'auto',
    provider: 'auto',
    maxCharacters: 200_000,
    maxTokens: 0,
    window: 'start',
    idleTimeoutMs: 300_000,
    hubEndpoint: undefined,
  });
  const values: Record<string, unknown> = {
    model: ' ./my-model ',
    executionProvider: 'cuda',
    maxCharacters: -5,
    maxTokens: 512,
    tokenWindow: 'end',
    idleTimeoutSeconds: 60,
    hubEndpoint: 'http://127.0.0.1:8080',
  };
  const s = readInspectorSettings((k) => values[k]);
  assert.equal(s.model, './my-model');
  assert.equal(s.provider, 'cuda');
  assert.equal(s.maxCharacters, 200_000, 'an out-of-range value falls back to the default');
  assert.equal(s.maxTokens, 512);
  assert.equal(s.window, 'end');
  assert.equal(s.idleTimeoutMs, 60_000);
  assert.equal(s.hubEndpoint, 'http://127.0.0.1:8080');
  assert.equal(readInspectorSettings((k) => (k === 'executionProvider' ? 'tpu' : undefined)).provider, 'auto');
  assert.equal(readInspectorSettings((k) => (k === 'modelDtype' ? 'q4' : undefined)).modelDtype, 'q4');
  assert.equal(
    readInspectorSettings((k) => (k === 'modelDtype' ? 'q3' : undefined)).modelDtype,
    'auto',
    'an unknown dtype falls back to auto',
  );
});

test('edits before the range shift it; edits inside or at its edges mark it changed', () => {
  const r = new InspectionRecord(1, 'file:///a.md', 100, 50);
  assert.equal(r.applyEdit(10, 0, 5), false);
  assert.deepEqual([r.offset, r.length], [105, 50]);
  assert.equal(r.applyEdit(0, 5, 0), false);
  assert.deepEqual([r.offset, r.length], [100, 50]);
  assert.equal(r.applyEdit(200, 3, 0), false, 'after the range');
  assert.equal(r.applyEdit(120, 2, 10), true, 'inside');
  assert.deepEqual([r.offset, r.length], [100, 58]);
  assert.equal(r.applyEdit(158, 0, 1), true, 'typing at the end extends it');
  assert.equal(r.length, 59);
  assert.equal(r.applyEdit(90, 20, 0), true, 'a deletion across the start');
  assert.deepEqual([r.offset, r.length], [90, 49]);
});

test('the record replays the stream for a reloaded webview and builds the result', () => {
  const result = syntheticResult('a b c');
  const { layers, summary, source, cost, ...header } = result;
  const r = new InspectionRecord(1, undefined, 0, 5);
  r.add({ kind: 'source', requestId: 1, source });
  r.add({ kind: 'progress', requestId: 1, stage: 'load' });
  r.add({ kind: 'header', requestId: 1, header });
  r.add({ kind: 'layer', requestId: 1, layer: layers[1] });
  r.add({ kind: 'layer', requestId: 1, layer: layers[0] });
  r.add({ kind: 'layer', requestId: 2, layer: layers[0] });
  assert.equal(r.result(), null, 'not before done');
  assert.ok(cost);
  r.add({ kind: 'cost', requestId: 1, cost });
  r.add({ kind: 'summary', requestId: 1, summary });
  r.stale = true;
  assert.deepEqual(
    r.replay().map((m) => m.kind),
    ['source', 'header', 'layer', 'layer', 'cost', 'summary', 'stale'],
  );
  assert.deepEqual(r.result()?.source, source);
  assert.equal(r.result()?.cost, cost);
  assert.deepEqual(
    r.result()?.layers.map((l) => l.layer),
    [0, 1],
  );
});

test('cursor offsets map to tokens; special tokens and gaps map to none', () => {
  const tok = (start: number, end: number, special = false): TokenInfo => ({ id: 0, text: '', start, end, special });
  const tokens = [tok(0, 0, true), tok(0, 5), tok(5, 6), tok(8, 12), tok(12, 14), tok(12, 14)];
  assert.equal(tokenAtOffset(tokens, 0), 1);
  assert.equal(tokenAtOffset(tokens, 4), 1);
  assert.equal(tokenAtOffset(tokens, 5), 2);
  assert.equal(tokenAtOffset(tokens, 7), null);
  assert.equal(tokenAtOffset(tokens, 9), 3);
  assert.ok([4, 5].includes(tokenAtOffset(tokens, 13) ?? -1));
  assert.equal(tokenAtOffset(tokens, 14), null);
});

test('decoration buckets grow with weight; the strongest is in the top bucket', () => {
  assert.equal(decorationBucket(0, 1, 5), 0);
  assert.equal(decorationBucket(1, 1, 5), 5);
  assert.ok(decorationBucket(0.01, 1, 5) >= 1);
  assert.ok(decorationBucket(0.3, 1, 5) <= decorationBucket(0.6, 1, 5));
});

test('panel state for the serializer is validated', () => {
  assert.equal(isInspectorPanelState({ uri: 'file:///a', offset: 0, length: 3, label: 'a' }), true);
  assert.equal(isInspectorPanelState({ offset: '0', length: 3, label: 'a' }), false);
  assert.equal(isInspectorPanelState(undefined), false);
  const state = { uri: 'file:///a', offset: 0, length: 3, label: 'a' };
  assert.equal(isInspectorPanelState({ ...state, answer: { given: true } }), true);
  assert.equal(isInspectorPanelState({ ...state, answer: { maxTokens: 5, temperature: 0, seed: 1 } }), true);
  assert.equal(isInspectorPanelState({ ...state, answer: { maxTokens: 0, temperature: 0, seed: 1 } }), false);
  assert.equal(isInspectorPanelState({ ...state, answer: { maxTokens: 5, temperature: -1, seed: 1 } }), false);
  assert.equal(isInspectorPanelState({ ...state, answer: 'given' }), false);
  // An answer read from a file names it, so a reload reads the same file.
  assert.equal(isInspectorPanelState({ ...state, answer: { given: true, file: 'file:///a.txt' } }), true);
  assert.equal(isInspectorPanelState({ ...state, answer: { given: true, file: 3 } }), false);
  assert.equal(isInspectorPanelState({ ...state, answer: { given: true, file: '' } }), false);
});
