// `prompt-attention inspect --chat` end to end on the tiny model (in process): the JSON tokens carry their
// role, template tokens have null spans, the others map back to the file's text; without a template the
// run says so and inspects the plain text.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { runInspectCommand } from '../../../src/cli/inspectCommand';
import type { InspectJsonToken } from '../../../src/cli/inspectFormat';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../helpers/tinyModel';

let dir = '';
let chatModel = '';
let plainModel = '';

before(async () => {
  dir = await makeTempDir();
  chatModel = (await writeTinyModel(path.join(dir, 'chat'))).folder;
  await fs.writeFile(
    path.join(chatModel, 'chat_template.jinja'),
    '{{ bos_token }}{% for m in messages %}<{{ m.role }}>\n{{ m.content | trim }}\n{% endfor %}{% if add_generation_prompt %}<assistant>\n{% endif %}',
  );
  plainModel = (await writeTinyModel(path.join(dir, 'plain'))).folder;
});

after(() => removeTempDir(dir));

async function inspect(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (t: string) => (stdout += t), isTTY: false },
    stderr: { write: (t: string) => (stderr += t), isTTY: false },
    stdin: (async function* () {})(),
  };
  const code = await runInspectCommand([...args, '--cache-dir', path.join(dir, 'cache')], io);
  return { code, stdout, stderr };
}

test('--chat: roles on every token, template tokens with null spans, role spans back in the file', async () => {
  const text = '## System\nBe brief and kind.\n\n## User\nWhat is a prime?\n';
  const file = path.join(dir, 'prompt.md');
  await fs.writeFile(file, text);
  const run = await inspect([file, '--model', chatModel, '--chat', '--format', 'json']);
  assert.equal(run.code, 0, run.stderr);
  const tokens = (JSON.parse(run.stdout) as { tokens: InspectJsonToken[] }).tokens;
  const spelled: Record<string, string> = {};
  for (const t of tokens) {
    assert.ok(t.role, 'every token has a role');
    if (t.role === 'template') {
      assert.equal(t.start, null);
      assert.equal(t.end, null);
      continue;
    }
    assert.equal(text.slice(t.start as number, t.end as number), t.text);
    spelled[t.role] = (spelled[t.role] ?? '') + t.text;
  }
  assert.deepEqual(spelled, { system: 'Be brief and kind.', user: 'What is a prime?' });
  const template = tokens
    .filter((t) => t.role === 'template')
    .map((t) => t.text)
    .join('');
  assert.ok(template.includes('<system>\n') && template.includes('\n<user>\n'), template);
  assert.ok(template.endsWith('<assistant>\n'), 'ends where the answer starts');

  const summary = await inspect([file, '--model', chatModel, '--chat', '--format', 'text']);
  assert.match(summary.stdout, /Inspected as a chat \(system, user\) through chat_template\.jinja/);
});

test('--chat on a model without a template says so in one line and inspects the plain text', async () => {
  const file = path.join(dir, 'plain.md');
  await fs.writeFile(file, 'Be brief.');
  const chat = await inspect([file, '--model', plainModel, '--chat', '--format', 'text']);
  assert.equal(chat.code, 0, chat.stderr);
  assert.match(chat.stdout, /plain has no chat template; inspected the plain text\./);
  const json = JSON.parse((await inspect([file, '--model', plainModel, '--chat', '--format', 'json'])).stdout) as {
    tokens: InspectJsonToken[];
  };
  const plain = JSON.parse((await inspect([file, '--model', plainModel, '--format', 'json'])).stdout) as {
    tokens: InspectJsonToken[];
  };
  assert.deepEqual(json.tokens, plain.tokens);
});
