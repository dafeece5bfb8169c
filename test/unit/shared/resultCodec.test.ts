import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { decodeInspectionResult, encodeInspectionResult } from '../../../src/shared/resultCodec';
import { buildReportHtml } from '../../../src/report/reportHtml';
import { syntheticResult } from '../../helpers/syntheticResult';

test('typed arrays survive the JSON round trip as base64', () => {
  const result = syntheticResult('One two three.\nFour five six.');
  const text = encodeInspectionResult(result);
  assert.match(text, /"\$typed":"Uint8Array"/);
  const back = decodeInspectionResult(text);
  assert.ok(back.layers[0].heads.weights instanceof Uint8Array);
  assert.ok(back.layers[0].heads.rowScale instanceof Float32Array);
  assert.deepEqual([...back.layers[1].received], [...result.layers[1].received]);
  assert.deepEqual([...back.layers[0].heads.weights], [...result.layers[0].heads.weights]);
  assert.deepEqual(back.tokens, result.tokens);
});

test('top-k indices (Uint16Array) round-trip', () => {
  const result = syntheticResult('w '.repeat(600), { layers: 1, heads: 1, topK: 8 });
  const back = decodeInspectionResult(encodeInspectionResult(result));
  assert.ok(back.layers[0].heads.indices instanceof Uint16Array);
  assert.deepEqual(
    [...back.layers[0].heads.indices!.subarray(0, 64)],
    [...result.layers[0].heads.indices!.subarray(0, 64)],
  );
});

test('bad input gets a one-line error', () => {
  assert.throws(() => decodeInspectionResult('{'), /^Error: Not a valid inspection result/);
  assert.throws(() => decodeInspectionResult('{"tokens": []}'), /missing "model"/);
});

test('the HTML report embeds data and code so that no prompt text can break out', () => {
  const hostile = '</script><script>window.__pwned=1</script><!-- <img src=x onerror=alert(1)>';
  const html = buildReportHtml(syntheticResult(hostile), {
    webviewJs: 'var s = "</script><!--";',
    webviewCss: 'a::after{content:"</style>"}',
  });
  const csp = /Content-Security-Policy" content="([^"]*)"/.exec(html)![1];
  assert.match(
    csp,
    /^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-[A-Za-z0-9+/=]+'; img-src data: blob:; connect-src 'none'/,
  );
  assert.ok(!csp.includes('unsafe'), 'only the report’s own script and style run');
  const script = /<script>([^]*?)<\/script>/.exec(html)![1];
  assert.ok(csp.includes(`'sha256-${createHash('sha256').update(script).digest('base64')}'`));
  assert.equal(html.match(/<\/script>/g)?.length, 2, 'only the two real script elements close');
  assert.equal(html.match(/<\/style>/g)?.length, 1);
  assert.ok(!html.includes('<!--'));
  assert.ok(!/https?:\/\//.test(html), 'no remote URL');
  const json = /<script type="application\/json" id="prompt-attention-data">([^]*?)<\/script>/.exec(html)![1];
  assert.equal(decodeInspectionResult(json).text, hostile);
});
