// The panel's action buttons against the host (a fake vscode API) and the real engine worker with the embedded
// model: "Choose a model…" and "Open Settings" run their VS Code commands, and "Inspect around the cursor"
// inspects the window of tokens centred on the editor's cursor, which the summary's note names.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HostMessage } from '../../../src/shared/protocol';
import { createFakeVscode, registerFakeInspector, waitFor } from './fakeVscodePanel';

const root = path.resolve(__dirname, '../../..');
const storage = mkdtempSync(path.join(tmpdir(), 'pa-panel-commands-'));
const fake = createFakeVscode(storage);
let registered: { readonly dispose: () => void } | undefined;

before(async () => {
  if (!existsSync(path.join(root, 'dist', 'worker.js'))) {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'ignore' });
  }
  registered = await registerFakeInspector(fake, root, {
    'promptAttention.executionProvider': 'cpu',
    'promptAttention.maxTokens': 48,
  });
});

after(() => {
  registered?.dispose();
  rmSync(storage, { recursive: true, force: true });
});

test('panel buttons: choose a model, open settings, inspect around the cursor', { timeout: 180_000 }, async () => {
  const lines = Array.from({ length: 200 }, (_, i) => `Rule ${i + 1}: answer the question in line ${i + 1}.`);
  const text = `${lines.join('\n')}\n`;
  const cursor = text.indexOf('Rule 150:');
  fake.openEditor(path.join(storage, 'long.md'), text, [cursor, cursor]);
  await fake.commands.get('promptAttention.inspect')?.();
  const panel = fake.panels[0];
  panel.receive.fire({ type: 'ready' });
  const messages = (): HostMessage[] => panel.posted as HostMessage[];
  const first = await waitFor('the first summary', () => messages().find((m) => m.kind === 'summary'));
  assert.ok(first.kind === 'summary');
  assert.match(first.summary.notes.join(' '), /Inspected the first 48 of \d+ tokens\./);

  panel.receive.fire({ type: 'command', command: 'choose-model' });
  panel.receive.fire({ type: 'command', command: 'open-settings' });
  await waitFor('the two commands', () => (fake.executed.length >= 2 ? true : undefined));
  assert.deepEqual(
    fake.executed.map((c) => c.id),
    ['promptAttention.chooseModel', 'workbench.action.openSettings'],
  );

  panel.receive.fire({ type: 'command', command: 'inspect-around' });
  const around = await waitFor('the window around the cursor', () =>
    messages().find((m) => m.kind === 'header' && m.requestId > first.requestId),
  );
  assert.ok(around.kind === 'header');
  const tokens = around.header.tokens.filter((t) => !t.special);
  assert.equal(around.header.text, text, 'the whole document is the inspected text');
  assert.ok(tokens[0].start < cursor && cursor < tokens[tokens.length - 1].end, 'the window holds the cursor');
  assert.ok(tokens[0].start > text.indexOf('Rule 140:'), `the window starts at ${tokens[0].start}`);
  const summary = await waitFor('its summary', () =>
    messages().find((m) => m.kind === 'summary' && m.requestId === around.requestId),
  );
  assert.ok(summary.kind === 'summary');
  assert.match(summary.summary.notes.join(' '), /Inspected the 48 of \d+ tokens around the cursor\./);
});
