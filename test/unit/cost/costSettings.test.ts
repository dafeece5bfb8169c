import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promptDocumentSelector, readCostSettings } from '../../../src/cost/costSettings';

const from = (values: Record<string, unknown>) => (key: string) => values[key];

test('defaults: Llama 3.1 8B, 80 % / 100 %, 8 GiB KV budget, markdown, plaintext and prompt globs', () => {
  const settings = readCostSettings(from({}));
  assert.equal(settings.target.id, 'llama-3.1-8b');
  assert.deepEqual(settings.options, { warningShare: 0.8, errorShare: 1, kvBudgetBytes: 8 * 1024 ** 3 });
  assert.deepEqual(settings.languages, ['markdown', 'plaintext']);
  assert.ok(
    settings.filePatterns.includes('**/*.prompty') &&
      settings.filePatterns.includes('**/*.jinja') &&
      settings.filePatterns.includes('**/*.txt'),
  );
  assert.equal(settings.maxFileBytes, 1024 * 1024);
  assert.equal(settings.codeLens, true);
  assert.deepEqual(settings.problems, []);
});

test('user presets, overrides and problems each get one line', () => {
  const settings = readCostSettings(
    from({
      target: 'mine',
      presets: [
        { id: 'mine', tokenizer: 'mistral', contextWindow: 32768 },
        { id: 'bad', tokenizer: 'x', contextWindow: 1 },
      ],
      warningThreshold: 0.9,
      errorThreshold: 0.5,
      kvDtype: 'fp8',
      kvCacheBudgetGiB: 0,
      codeLens: false,
    }),
  );
  assert.equal(settings.target.id, 'mine');
  assert.deepEqual(settings.options, { warningShare: 0.5, errorShare: 0.5, kvBudgetBytes: 0, kvDtype: 'fp8' });
  assert.equal(settings.codeLens, false);
  assert.equal(settings.problems.length, 2);
  assert.match(settings.problems[0], /^preset "bad": "tokenizer"/);
  assert.match(settings.problems[1], /warningThreshold is above errorThreshold/);
  const unknown = readCostSettings(from({ target: 'gpt-7' }));
  assert.equal(unknown.target.id, 'llama-3.1-8b');
  assert.match(unknown.problems[0], /unknown target "gpt-7"/);
});

test('the document selector covers each language and glob on editable schemes only', () => {
  const selector = promptDocumentSelector({ languages: ['markdown'], filePatterns: ['**/*.prompt'] });
  assert.ok(selector.some((filter) => filter.scheme === 'file' && filter.language === 'markdown'));
  assert.ok(selector.some((filter) => filter.scheme === 'untitled' && filter.pattern === '**/*.prompt'));
  assert.ok(!selector.some((filter) => filter.scheme === 'output'));
});
