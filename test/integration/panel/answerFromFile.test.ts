// "Answer from File…" against the host (a fake vscode API) and the real engine worker with the embedded model:
// the command given a path, and the Answer card's button (which asks for the file), read that file's text as
// the answer to the inspected prompt; the strip gets its tokens, each with its rows, its rollout and its
// value-norm rows over the prompt and the answer up to it, and the start names the file so a window reload
// reads it again (the serializer's restore does). A file that cannot be read is a one-line error, and without
// an inspection the command says to inspect first.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AnswerMessage, HostMessage } from '../../../src/shared/protocol';
import { createFakeVscode, registerFakeInspector, waitFor } from './fakeVscodePanel';

const root = path.resolve(__dirname, '../../..');
const storage = mkdtempSync(path.join(tmpdir(), 'pa-answer-file-'));
const fake = createFakeVscode(storage);
const COMMAND = 'promptAttention.answerFromFile';
let registered: { readonly dispose: () => void } | undefined;

before(async () => {
  // The worker bundle must hold this tree's engine.
  execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'ignore' });
  registered = await registerFakeInspector(fake, root, { 'promptAttention.executionProvider': 'cpu' });
});

after(() => {
  registered?.dispose();
  rmSync(storage, { recursive: true, force: true });
});

/** The strip's messages from the `nth` answer start on (1 for the first). */
function answerRun(messages: readonly HostMessage[], nth: number): AnswerMessage[] {
  const answers = messages.filter((m): m is AnswerMessage => m.kind === 'answer');
  const starts = answers.flatMap((m, i) => (m.event === 'start' ? [i] : []));
  return starts.length >= nth ? answers.slice(starts[nth - 1]) : [];
}

test('an answer from a file: by path, and by the Answer card’s button', { timeout: 180_000 }, async () => {
  const command = fake.commands.get(COMMAND);
  assert.ok(command, `${COMMAND} is registered`);
  await command();
  assert.match(fake.informed.join(' '), /Inspect a prompt first/);

  const prompt = 'Rules.\n\nThe code is XK-4471.\n\nWhat is the code?\n';
  const editor = fake.openEditor(path.join(storage, 'prompt.md'), prompt, [0, 0]);
  await fake.commands.get('promptAttention.inspect')?.();
  const panel = fake.panels[0];
  panel.receive.fire({ type: 'ready' });
  const messages = (): HostMessage[] => panel.posted as HostMessage[];
  const summary = await waitFor('the summary', () => messages().find((m) => m.kind === 'summary'));
  const header = messages().find((m) => m.kind === 'header');
  assert.ok(summary && header?.kind === 'header');

  const file = path.join(storage, 'answer.txt');
  writeFileSync(file, 'The code is XK-4471.\n');
  await command(file);
  const run = await waitFor('the answer from the file', () => {
    const r = answerRun(messages(), 1);
    return r.some((m) => m.event === 'end') ? r : undefined;
  });
  const start = run[0];
  assert.ok(start.event === 'start' && start.given === true);
  assert.equal(start.file, `file://${file}`);
  const end = run.find((m) => m.event === 'end');
  assert.ok(end?.event === 'end' && !end.error, JSON.stringify(end));
  const tokens = run.flatMap((m) => (m.event === 'token' ? [m.token] : []));
  assert.equal(
    tokens
      .map((t) => t.text)
      .join('')
      .trim(),
    'The code is XK-4471.',
  );
  // Read after the inspected text: the first token's keys are the prompt's tokens and itself.
  const promptKeys = tokens[0].keys - 1;
  assert.ok(Math.abs(promptKeys - header.header.tokens.length) <= 1, `${promptKeys} prompt keys`);
  for (const [i, t] of tokens.entries()) {
    assert.equal(t.keys, promptKeys + i + 1);
    assert.equal(t.rollout?.length, header.header.model.layers);
    for (const row of t.rollout ?? []) {
      assert.equal(row.length, t.keys);
      const sum = row.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-3, `a rollout row sums to ${sum}`);
    }
    // The embedded model's graph gives value norms: each head's weighted row sums to 1 too.
    assert.equal(t.valueNorm?.length, header.header.model.layers);
    const heads = header.header.model.heads;
    for (const rows of t.valueNorm ?? [])
      for (let h = 0; h < heads; h++) {
        const sum = rows.subarray(h * t.keys, (h + 1) * t.keys).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-3, `a value-norm row sums to ${sum}`);
      }
  }

  // The card's button runs the command, which asks for the file.
  fake.setOpenTarget(file);
  panel.receive.fire({ type: 'command', command: 'answer-from-file' });
  const again = await waitFor('the answer from the picked file', () => {
    const r = answerRun(messages(), 2);
    return r.some((m) => m.event === 'end') ? r : undefined;
  });
  assert.ok(fake.executed.some((c) => c.id === COMMAND));
  assert.deepEqual(
    again.flatMap((m) => (m.event === 'token' ? [m.token.id] : [])),
    tokens.map((t) => t.id),
  );

  await command(path.join(storage, 'missing.txt'));
  assert.match(fake.errors.join('\n'), /^Answer from File: cannot read .*missing\.txt/m);

  // After a window reload, the restored panel inspects again and reads the same file again.
  const serializer = fake.serializers.get('promptAttention.inspector');
  assert.ok(serializer);
  const { FakeWebviewPanel } = await import('./fakeVscodePanel');
  const reloaded = new FakeWebviewPanel();
  const restored = serializer.deserializeWebviewPanel(reloaded, {
    uri: editor.document.uri.toString(),
    offset: 0,
    length: prompt.length,
    label: 'prompt.md',
    answer: { given: true, file: start.file },
  });
  reloaded.receive.fire({ type: 'ready' });
  await restored;
  const back = await waitFor('the answer from the file after the reload', () => {
    const r = answerRun(reloaded.posted as HostMessage[], 1);
    return r.some((m) => m.event === 'end') ? r : undefined;
  });
  assert.ok(back[0].event === 'start' && back[0].file === start.file);
  assert.deepEqual(
    back.flatMap((m) => (m.event === 'token' ? [m.token.id] : [])),
    tokens.map((t) => t.id),
  );
});
