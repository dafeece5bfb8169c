// The inspector's extension-host side against a fake vscode API and the real engine worker (dist/worker.js,
// the embedded model): the ready handshake, streamed results with source offsets, editor decorations and
// reveal on focus, cursor → focus-token, edits → stale, re-run, cancel, and exports through the save dialog.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HostMessage, InspectionHeader } from '../../../src/shared/protocol';
import { decodeInspectionResult } from '../../../src/shared/resultCodec';
import { withStack, type Log } from '../../../src/shared/log';
import { createFakeVscode, installFakeVscode, waitFor, type FakeWebviewPanel } from './fakeVscodePanel';

const root = path.resolve(__dirname, '../../..');
const model = path.join(root, 'models', 'pa-mini-llama', 'onnx', 'model.onnx');
const skip = existsSync(model) ? false : 'the embedded model is not in models/pa-mini-llama yet';
const storage = mkdtempSync(path.join(tmpdir(), 'pa-host-'));
const fake = createFakeVscode(storage);
let uninstall: () => void = () => undefined;
let context: ReturnType<typeof fake.context>;
const logged: string[] = [];
const log: Log = {
  info: (m) => logged.push(`info ${m}`),
  warn: (m) => logged.push(`warn ${m}`),
  error: (m, e) => logged.push(`error ${withStack(m, e)}`),
};

before(async () => {
  if (skip) return;
  if (!existsSync(path.join(root, 'dist', 'worker.js')) || !existsSync(path.join(root, 'dist', 'webview.js'))) {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'ignore' });
  }
  uninstall = installFakeVscode(fake.api);
  const { registerInspector } = await import('../../../src/panel/registerInspector');
  const { panelCostSummary } = await import('../../../src/cost/panelCost');
  context = fake.context(root);
  fake.settings['promptAttention.executionProvider'] = 'cpu';
  // The cost features lend the panel its cost summary; here it counts in-process, with the fake's settings.
  registerInspector(context as never, log, (text) =>
    panelCostSummary(text, (key) => fake.settings[`promptAttention.cost.${key}`]),
  );
});

after(() => {
  for (const d of context?.subscriptions ?? []) d.dispose();
  uninstall();
  rmSync(storage, { recursive: true, force: true });
});

const messages = (panel: FakeWebviewPanel): HostMessage[] => panel.posted as HostMessage[];

const lastOf = <K extends HostMessage['kind']>(
  panel: FakeWebviewPanel,
  kind: K,
): Extract<HostMessage, { kind: K }> | undefined =>
  messages(panel)
    .filter((m): m is Extract<HostMessage, { kind: K }> => m.kind === kind)
    .at(-1);

test('inspect → panel → editor link → stale → re-run → export', { skip, timeout: 240_000 }, async (t) => {
  const text = 'Intro line that is not inspected.\nSystem: <b>be brief</b> and cite sources.\nUser: hello there\n';
  const selStart = text.indexOf('System');
  const selEnd = text.indexOf('\nUser');
  const editor = fake.openEditor(path.join(storage, 'prompt.md'), text, [selStart, selEnd]);
  await fake.commands.get('promptAttention.inspect')?.();

  const panel = fake.panels[0];
  assert.ok(panel, 'a panel opened');
  assert.match(panel.webview.html, /default-src 'none'/);
  assert.match(
    panel.webview.html,
    /<script nonce="[A-Za-z0-9]+" src="vscode-webview:\/\/fake[^"]*\/dist\/webview\.js">/,
  );
  assert.equal(panel.posted.length, 0, 'nothing is sent before the webview is ready');
  panel.receive.fire({ type: 'ready' });

  const done = await waitFor('summary', () => lastOf(panel, 'summary'));
  const start = lastOf(panel, 'header');
  const source = lastOf(panel, 'source')?.source;
  assert.ok(start && source);
  const header: InspectionHeader = start.header;
  assert.equal(header.text, text.slice(selStart, selEnd), 'the selection, not the document');
  assert.equal(source.offset, selStart);
  assert.equal(source.uri, editor.document.uri.toString());
  assert.equal(header.model.provider, 'cpu');
  const layers = messages(panel).filter((m) => m.kind === 'layer');
  assert.equal(layers.length, header.model.layers);
  assert.ok(layers.every((m) => m.kind === 'layer' && m.layer.heads.weights instanceof Uint8Array));
  assert.equal(done.requestId, header.requestId);
  const cost = lastOf(panel, 'cost')?.cost;
  t.diagnostic(`cost summary ${cost ? `present (${cost.target}, ${cost.tokens} tokens)` : 'absent'}`);

  // Focus in the panel: the attended spans are decorated and the focused token revealed.
  const tokens = header.tokens;
  const tokenAt = (offset: number): number =>
    tokens.findIndex((tk) => !tk.special && tk.start <= offset && offset < tk.end);
  const b = tokenAt(header.text.indexOf('brief'));
  const sys = tokenAt(0);
  assert.ok(b > sys && sys > 0);
  panel.receive.fire({
    type: 'focus',
    index: b,
    attended: [
      { index: sys, weight: 0.4 },
      { index: b - 1, weight: 0.1 },
    ],
    reveal: true,
  });
  const decorated = editor.decoratedOffsets();
  assert.ok(
    decorated.some(([s, e]) => s === selStart + tokens[sys].start && e === selStart + tokens[sys].end),
    'the attended token is decorated at its document offset',
  );
  assert.ok(
    decorated.some(([s]) => s === selStart + tokens[b].start),
    'the focused token is outlined',
  );
  assert.equal(editor.revealed.length, 1);

  // The editor cursor inside the inspected range focuses its token; outside it, nothing.
  const before = panel.posted.length;
  fake.moveCursor(editor, selStart + tokens[sys].start);
  assert.deepEqual(panel.posted.at(-1), { kind: 'focus-token', index: sys });
  fake.moveCursor(editor, 3);
  assert.equal(panel.posted.length, before + 1);
  // A hover (or the echo of a cursor focus) decorates but does not scroll the editor.
  panel.receive.fire({ type: 'focus', index: sys, attended: [{ index: 1, weight: 0.2 }], reveal: false });
  assert.equal(editor.revealed.length, 1);
  assert.ok(editor.decoratedOffsets().some(([s0]) => s0 === selStart + tokens[1].start));
  // A malformed message is dropped, with a log entry, and changes nothing.
  panel.receive.fire({ type: 'focus', index: sys, attended: [{ index: 'x', weight: 1 }] });
  assert.ok(
    editor.decoratedOffsets().some(([s0]) => s0 === selStart + tokens[1].start),
    'the decorations stay',
  );
  assert.ok(
    logged.some((l) => /^warn Dropped a malformed message from the panel: focus: attended/.test(l)),
    logged.join('\n'),
  );
  panel.receive.fire({ type: 'focus', index: null, attended: [] });
  assert.deepEqual(editor.decoratedOffsets(), [], 'no focus, no decorations');

  // An edit before the range shifts it; an edit inside marks the panel stale.
  fake.edit(editor, 0, 0, 'XX');
  assert.equal(lastOf(panel, 'stale'), undefined);
  fake.moveCursor(editor, selStart + 2 + tokens[sys].start);
  assert.deepEqual(panel.posted.at(-1), { kind: 'focus-token', index: sys });
  fake.edit(editor, selStart + 2 + header.text.indexOf('brief'), 5, 'short');
  assert.deepEqual(lastOf(panel, 'stale'), { kind: 'stale', stale: true });

  // Exports go through the save dialog.
  fake.setSaveTarget(path.join(storage, 'out.json'));
  panel.receive.fire({ type: 'export', requestId: 1, kind: 'json' });
  await waitFor('json export', () => messages(panel).find((m) => m.kind === 'reply' && m.inReplyTo === 1));
  assert.equal(lastOf(panel, 'reply')?.outcome, 'done');
  assert.equal(
    decodeInspectionResult(readFileSync(path.join(storage, 'out.json'), 'utf8')).tokens.length,
    tokens.length,
  );
  fake.setSaveTarget(path.join(storage, 'out.html'));
  panel.receive.fire({ type: 'export', requestId: 2, kind: 'html' });
  await waitFor('html export', () => (fake.saved.some((s) => s.path.endsWith('out.html')) ? true : undefined));
  assert.match(readFileSync(path.join(storage, 'out.html'), 'utf8'), /id="prompt-attention-data"/);
  fake.setSaveTarget(path.join(storage, 'out.png'));
  panel.receive.fire({
    type: 'export',
    requestId: 3,
    kind: 'png',
    pngDataUrl: `data:image/png;base64,${Buffer.from('\x89PNG fake').toString('base64')}`,
  });
  await waitFor('png export', () => (fake.saved.some((s) => s.path.endsWith('out.png')) ? true : undefined));

  // Re-run reads the edited text at the shifted offset.
  panel.receive.fire({ type: 'rerun', requestId: 4 });
  const rerun = await waitFor('re-run start', () =>
    messages(panel).find((m) => m.kind === 'header' && m.requestId > header.requestId),
  );
  assert.ok(rerun.kind === 'header');
  const rerunSource = messages(panel).find((m) => m.kind === 'source' && m.requestId === rerun.requestId);
  assert.ok(rerunSource?.kind === 'source');
  assert.equal(rerunSource.source.offset, selStart + 2);
  assert.ok(rerun.header.text.includes('be short'), rerun.header.text);
  await waitFor('re-run done', () =>
    messages(panel).find((m) => m.kind === 'summary' && m.requestId === rerun.requestId),
  );
  assert.ok(
    messages(panel).some((m) => m.kind === 'reply' && m.inReplyTo === 4 && m.outcome === 'done'),
    'the re-run request is answered',
  );

  // Cancel ends a running inspection with a message in the panel.
  await fake.commands.get('promptAttention.inspect')?.();
  panel.receive.fire({ type: 'cancel' });
  const cancelled = await waitFor('cancel', () => lastOf(panel, 'error'));
  assert.equal(cancelled.message, 'Inspection cancelled.');
  assert.equal(fake.panels.length, 1, 'the open panel is reused');
  assert.deepEqual(fake.errors, []);
});

test('bad input reaches the panel and a one-line error message', { skip, timeout: 120_000 }, async () => {
  fake.openEditor(path.join(storage, 'empty.md'), '   \n\n  ', [0, 0]);
  await fake.commands.get('promptAttention.inspect')?.();
  const panel = fake.panels[0];
  const error = await waitFor('error', () =>
    messages(panel).find((m) => m.kind === 'error' && m.message !== 'Inspection cancelled.'),
  );
  assert.ok(error.kind === 'error' && !error.message.includes('\n'));
  await waitFor('error message', () => (fake.errors.length ? true : undefined));
  assert.match(fake.errors[0], /^Prompt Attention: /);
});

test(
  'after a window reload the serializer restores the panel and re-runs its inspection',
  { skip, timeout: 120_000 },
  async () => {
    const text = 'Keep answers short.\nCite the source.\n';
    const editor = fake.openEditor(path.join(storage, 'restored.md'), text, [0, 0]);
    const serializer = fake.serializers.get('promptAttention.inspector');
    assert.ok(serializer, 'a serializer is registered for the panel');
    const { FakeWebviewPanel } = await import('./fakeVscodePanel');
    const panel = new FakeWebviewPanel();
    await serializer.deserializeWebviewPanel(panel, {
      uri: editor.document.uri.toString(),
      offset: 5,
      length: 14,
      label: 'restored.md',
    });
    assert.match(panel.webview.html, /default-src 'none'/);
    panel.receive.fire({ type: 'ready' });
    const start = await waitFor('restored start', () => lastOf(panel, 'header'));
    assert.equal(start.header.text, text.slice(5, 19));
    assert.equal(lastOf(panel, 'source')?.source.offset, 5);
    await waitFor('restored done', () => lastOf(panel, 'summary'));
  },
);

test('Hub downloads show a progress notification with bytes that closes when loading starts', { skip }, async () => {
  const { DownloadProgress } = await import('../../../src/panel/downloadProgress');
  const download = new DownloadProgress();
  download.update({ stage: 'download', file: 'model.onnx', loadedBytes: 1024 * 1024, totalBytes: 4 * 1024 * 1024 });
  download.update({ stage: 'download', file: 'model.onnx', loadedBytes: 2 * 1024 * 1024, totalBytes: 4 * 1024 * 1024 });
  const entry = fake.progress.at(-1);
  assert.ok(entry);
  assert.match(entry.title, /downloading/i);
  assert.deepEqual(entry.reports, [
    { message: 'Downloading model.onnx · 1.0 MB of 4.0 MB', increment: 25 },
    { message: 'Downloading model.onnx · 2.0 MB of 4.0 MB', increment: 25 },
  ]);
  download.update({ stage: 'load' });
  await new Promise((r) => setImmediate(r));
  assert.equal(entry.closed, true);
});
