// The vscode-facing providers (status bar, diagnostics, CodeLens, Pick Target) run against a fake vscode API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildBundle } from '../../helpers/buildBundle';
import { createFakeVscode, FakeDocument, installFakeVscode, type MarkdownString } from './fakeVscode';

let workerScript = '';
before(async () => {
  workerScript = await buildBundle('src/cost/tokenizerWorker.ts', 'tokenizer-worker');
});

const tiny = {
  id: 'tiny',
  name: 'Tiny',
  tokenizer: 'cl100k_base',
  contextWindow: 100,
  kvDtype: 'fp16',
  architecture: { layers: 1, attentionHeads: 2, kvHeads: 1, headDim: 4, hiddenSize: 8, parameters: 1000 },
};

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(condition(), `timed out waiting for ${what}`);
}

/** "w1 w2 … wN" with ten words per line: cl100k counts "w1" as 2 tokens and " w2" as 2. */
function words(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i += 10)
    lines.push(Array.from({ length: Math.min(10, n - i) }, (_, j) => `w${i + j + 1}`).join(' '));
  return `${lines.join('\n')}\n`;
}

const KEY = 'sk-ant-test-secret-42';

/** Answers like Anthropic's messages/count_tokens (the real service cannot be reached from the test machines). */
async function countTokensServer(): Promise<{ close(): void; baseUrl: string }> {
  const server = createServer((request, response) => {
    response.writeHead(request.headers['x-api-key'] === KEY ? 200 : 401, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify(
        request.headers['x-api-key'] === KEY
          ? { input_tokens: 1234 }
          : { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { close: () => server.close(), baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('status bar, diagnostics and CodeLens follow a prompt document; Pick Target writes the setting; exact count on request with the key kept secret', async () => {
  const countServer = await countTokensServer();
  const fake = createFakeVscode({
    'promptAttention.cost.presets': [tiny, { id: 'broken', tokenizer: 'nope', contextWindow: 1 }],
    'promptAttention.cost.target': 'tiny',
    'promptAttention.cost.debounceMs': 0,
    'promptAttention.cost.kvCacheBudgetGiB': 0,
  });
  const restore = installFakeVscode(fake.api);
  try {
    const { registerCostFeatures } = await import('../../../src/cost/registerCostFeatures');
    const subscriptions: { dispose(): void }[] = [];
    const features = registerCostFeatures(
      { extensionPath: join(__dirname, '../../..'), subscriptions, secrets: fake.secrets } as unknown as Parameters<
        typeof registerCostFeatures
      >[0],
      { workerScript, countApiBaseUrl: countServer.baseUrl, exactDebounceMs: 0 },
    );
    assert.deepEqual(fake.warnings, [
      'Prompt Attention: preset "broken": "tokenizer" must be one of o200k_base, cl100k_base, llama3, llama2, mistral, qwen2, o200k_harmony, qwen3, gemma3, deepseek_v3, claude',
    ]);
    const [status] = fake.statusItems;
    assert.equal(status.command, 'promptAttention.pickTarget');

    // 20 words = 39 tokens: under the 80-token warning line.
    const document = new FakeDocument('/work/prompt.md', 'markdown', `# Intro\n${words(20)}`);
    fake.open(document);
    // The tokenizer loads in the worker: "counting…" until it answers.
    await until(() => status.visible && status.text.includes('counting…'), 'the loading status');
    await until(() => status.visible && status.text.includes('tok'), 'the first count');
    assert.match(status.text, /^\$\(pulse\) 4\d tok · 4\d\.\d % of Tiny$/);
    assert.match((status.tooltip as MarkdownString).value, /\| \*\*Target\*\* \| Tiny \(tiny\) \|/);
    assert.deepEqual(fake.diagnostics.get(document.uri.toString()), []);
    const lenses = fake.lensProviders[0].provideCodeLenses(document);
    assert.equal(lenses.length, 1);
    assert.match(lenses[0].command?.title ?? '', /^4\d tokens · 100 % of attention$/);

    // Past the window: one error from the first token that does not fit to the end of the text.
    fake.edit(document, `# Intro\n${words(20)}\n# Examples\n${words(40)}`);
    await until(() => status.text.startsWith('$(error)'), 'the error status');
    const [error, ...others] = fake.diagnostics.get(document.uri.toString()) ?? [];
    assert.equal(others.length, 0);
    assert.equal(error.severity, 0);
    assert.equal(error.code, 'context-error');
    assert.equal(error.source, 'Prompt Attention');
    assert.match(error.message, /^Token 101 passes 100 % of Tiny's 100-token context window/);
    const text = document.getText();
    assert.ok(error.range.start.line >= 4, 'the error starts in the Examples section');
    assert.deepEqual(error.range.end, document.positionAt(text.length));
    const titles = fake.lensProviders[0].provideCodeLenses(document).map((lens) => lens.command?.title);
    assert.equal(titles.length, 2);
    assert.match(titles[1] ?? '', /^\d+ tokens · \d+ % of attention$/);

    // Files over the size limit get a note instead of a count.
    fake.edit(document, `# Intro\n${words(400)}`);
    fake.changeSettings({ 'promptAttention.cost.maxFileSizeKB': 1 });
    await until(() => status.text.includes('too large'), 'the size note');
    assert.match(status.text, /^\$\(circle-slash\) 1\.\d+ KiB: too large to count$/);
    assert.equal(fake.diagnostics.get(document.uri.toString()), undefined);
    assert.deepEqual(fake.lensProviders[0].provideCodeLenses(document), []);
    fake.changeSettings({ 'promptAttention.cost.maxFileSizeKB': 1024 });
    await until(() => status.text.startsWith('$(error)'), 'the count after the limit is raised');

    // Other languages are left alone; closing a prompt clears its diagnostics.
    const code = new FakeDocument('/work/main.py', 'python', words(500));
    fake.open(code);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(fake.diagnostics.get(code.uri.toString()), undefined);
    assert.equal(status.visible, false);
    fake.close(document);
    assert.equal(fake.diagnostics.get(document.uri.toString()), undefined);

    let offered: { label?: string; kind?: number; description?: string; detail?: string }[] = [];
    fake.setQuickPick((items) => {
      offered = items;
      return items.find((item) => item.description === 'gpt-4o');
    });
    await fake.commands.get('promptAttention.pickTarget')?.();
    assert.deepEqual(fake.updates, [['promptAttention.cost.target', 'gpt-4o', 1]]);
    // Grouped by provider (a separator each), each target saying whether its count is exact.
    const separators = offered.filter((item) => item.kind === -1).map((item) => item.label);
    assert.deepEqual(separators, [
      'Meta',
      'Mistral AI',
      'Alibaba Qwen',
      'OpenAI',
      'Google',
      'DeepSeek',
      'Anthropic',
      'Custom',
    ]);
    const sonnet = offered.find((item) => item.description === 'claude-sonnet-4.5');
    assert.equal(sonnet?.label, '≈ Claude Sonnet 4.5');
    assert.match(
      sonnet?.detail ?? '',
      /^≈ estimate \(exact on request\) · 200k context · architecture not public · ≈ estimate with Claude pre-3 BPE, 65k$/,
    );
    assert.match(
      offered.find((item) => item.description === 'qwen3-8b')?.detail ?? '',
      /^exact count · 128k context · 8\.19B params/,
    );

    // A Claude target: "≈" and a link to the exact count.
    const claude = new FakeDocument('/work/claude.md', 'markdown', `# Task\n${words(30)}`);
    fake.changeSettings({ 'promptAttention.cost.target': 'claude-sonnet-4.5', 'promptAttention.cost.presets': [] });
    fake.open(claude);
    await until(() => status.text.includes('Claude'), 'the estimate');
    assert.match(status.text, /^\$\(pulse\) ≈\d+ tok · /);
    const tooltip = status.tooltip as MarkdownString;
    assert.match(tooltip.value, /\[Count exactly with the Anthropic API\]\(command:promptAttention\.countExact\)/);
    assert.deepEqual(tooltip.isTrusted, { enabledCommands: ['promptAttention.countExact'] });

    // No key yet: the estimate stays, with one line saying why.
    await fake.commands.get('promptAttention.countExact')?.();
    assert.match(
      fake.warnings.at(-1) ?? '',
      /^Prompt Attention: Exact count failed \(no Anthropic API key \(run "Prompt Attention: Set API Key"\)\); showing the estimate\.$/,
    );

    // Set API Key: a password box; the key lands in SecretStorage, not in the settings.
    fake.setQuickPick((items) => items.find((item) => (item as { label?: string }).label === 'Anthropic'));
    fake.setInputBox('sk-ant-wrong');
    await fake.commands.get('promptAttention.setApiKey')?.();
    assert.equal(fake.stored.get('promptAttention.apiKey.anthropic'), 'sk-ant-wrong');
    await fake.commands.get('promptAttention.countExact')?.();
    assert.match(
      fake.warnings.at(-1) ?? '',
      /^Prompt Attention: Exact count failed \(Anthropic: API key rejected: invalid x-api-key\); showing the estimate\.$/,
    );
    await until(
      () => (status.tooltip as MarkdownString).value.includes('Exact count failed'),
      'the note in the tooltip',
    );
    assert.match(status.text, /≈/);

    fake.setInputBox(KEY);
    await fake.commands.get('promptAttention.setApiKey')?.();
    await fake.commands.get('promptAttention.countExact')?.();
    await until(() => status.text.includes('(exact)'), 'the exact count');
    assert.match(status.text, /^\$\(pulse\) 1,234 tok \(exact\) · 0\.62 % of Claude Sonnet 4\.5$/);
    // Editing the text drops the exact count: it belonged to the old text.
    fake.edit(claude, `${claude.getText()}more\n`);
    await until(() => status.text.includes('≈'), 'the estimate after an edit');

    const everything = JSON.stringify([
      fake.warnings,
      fake.infos,
      fake.updates,
      fake.settings,
      status.text,
      (status.tooltip as MarkdownString).value,
    ]);
    assert.ok(
      !everything.includes(KEY) && !everything.includes('sk-ant-wrong'),
      'the key never reaches messages, settings or the status bar',
    );
    // The panel's cost summary counts in the same worker while the features are registered.
    const { computeCostSummary } = await import('../../../src/cost/costSummary');
    const controller = subscriptions.find((item) => 'countPrompt' in item) as unknown as {
      countPrompt: (text: string, preset: unknown) => Promise<unknown>;
    };
    let viaWorker = 0;
    const original = controller.countPrompt.bind(controller);
    controller.countPrompt = (text, preset) => {
      viaWorker++;
      return original(text, preset);
    };
    const summary = await computeCostSummary('Hello world!', 'gpt-5', { counter: features.countPrompt });
    assert.equal(summary.tokens, 3);
    assert.equal(viaWorker, 1);
    subscriptions.forEach((subscription) => subscription.dispose());
    assert.equal((await computeCostSummary('Hello world!', 'gpt-5')).tokens, 3, 'after disposal it counts in-process');
    assert.equal(viaWorker, 1);
  } finally {
    restore();
    countServer.close();
  }
});
