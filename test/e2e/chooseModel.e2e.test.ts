// Scenario: a user with an Ollama model picks it. A fixture GGUF (a one-layer model around the real Qwen3
// vocabulary and chat template) lies in a fake Ollama store under a temporary HOME; Choose Model… lists it
// with its facts; picking it writes promptAttention.model to the user settings; Inspect Attention shows the
// panel with that model; Inspect as Chat goes through the file's own chat template.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { addOllamaModel } from '../helpers/modelStores';
import { tinyModelWithVocab, vocabMetadata } from '../helpers/vocabGguf';
import { PROMPT_MD, SECOND_PARAGRAPH } from './harness/fixtures';
import { useScenario } from './harness/scenario';
import {
  INSPECT_COMMAND,
  inspectorFrame,
  LONG,
  MEDIUM,
  openFile,
  runCommand,
  screenshot,
  selectLines,
  waitForNotification,
  waitForTokens,
  waitUntil,
} from './harness/workbench';

const SCENARIO = 'choose-model';
const MODEL = 'tiny-qwen3:latest';

// code-server (and the extension host it starts) inherit this process's environment: HOME is the fake one.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pa-e2e-home-'));
addOllamaModel(
  path.join(home, '.ollama', 'models'),
  'tiny-qwen3',
  'latest',
  tinyModelWithVocab(vocabMetadata('qwen3')),
);
const saved = { HOME: process.env.HOME, OLLAMA_MODELS: process.env.OLLAMA_MODELS };
process.env.HOME = home;
delete process.env.OLLAMA_MODELS;

const scenario = useScenario(SCENARIO, { workspaceFiles: { 'prompt.md': PROMPT_MD } });

after(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  fs.rmSync(home, { recursive: true, force: true });
});

function storedModel(settingsFile: string): unknown {
  try {
    return (JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as Record<string, unknown>)['promptAttention.model'];
  } catch {
    return undefined; // mid-write
  }
}

test('Choose Model… lists the Ollama model with its facts and saves the choice to the user settings', async () => {
  const { page } = scenario().workbench;
  const { userSettingsFile } = scenario().server;
  await openFile(page, 'prompt.md');
  // runCommand waits for the palette to close; this command's own quick pick opens in its place.
  await page.keyboard.press('F1');
  await page.keyboard.type('Prompt Attention: Choose Model');
  const widget = page.locator('.quick-input-widget');
  const command = widget.locator('.monaco-list-row', { hasText: 'Prompt Attention: Choose Model…' }).first();
  await command.waitFor({ state: 'visible', timeout: MEDIUM });
  await command.click();
  const row = widget.locator('.monaco-list-row', { hasText: MODEL }).first();
  await row.waitFor({ state: 'visible', timeout: MEDIUM });
  const text = await row.innerText();
  assert.match(text, /Ollama · GGUF/);
  assert.match(text, /llama · [\d.]+ MiB · F32 · context 512/);
  assert.ok(await widget.locator('.monaco-list-row', { hasText: 'pa-mini-llama (embedded)' }).first().isVisible());
  await screenshot(page, SCENARIO, '1-choose-model');
  await row.click();
  await widget.waitFor({ state: 'hidden', timeout: MEDIUM });
  await waitUntil('the model in the user settings', async () =>
    storedModel(userSettingsFile) === `ollama:${MODEL}` ? true : undefined,
  );
  await waitForNotification(page, new RegExp(`now inspects with ${MODEL.replace('.', '\\.')}`));
});

test('Inspect Attention runs the chosen GGUF model', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'prompt.md');
  await selectLines(page, SECOND_PARAGRAPH.first, SECOND_PARAGRAPH.last);
  await runCommand(page, INSPECT_COMMAND);
  const tokens = await waitForTokens(page);
  assert.ok((await tokens.count()) >= 10);
  const panel = inspectorFrame(page);
  await panel.locator('.model-name', { hasText: `ollama:${MODEL}` }).waitFor({ state: 'visible', timeout: LONG });
  assert.equal(await panel.locator('.banner.error').isVisible(), false);
  await screenshot(page, SCENARIO, '2-inspect');
});

test('Inspect as Chat goes through the GGUF chat template', async () => {
  const { page } = scenario().workbench;
  await openFile(page, 'prompt.md');
  await selectLines(page, SECOND_PARAGRAPH.first, SECOND_PARAGRAPH.last);
  await runCommand(page, 'Prompt Attention: Inspect as Chat');
  const panel = inspectorFrame(page);
  await panel
    .locator('.note', { hasText: 'through tokenizer.chat_template' })
    .first()
    .waitFor({ state: 'visible', timeout: LONG });
  const template = panel.locator('[data-token-index].role-template');
  await waitUntil('template tokens', async () => ((await template.count()) > 0 ? true : undefined), LONG);
  assert.ok((await panel.locator('[data-token-index].role-system').count()) > 5);
  await screenshot(page, SCENARIO, '3-chat');
});
