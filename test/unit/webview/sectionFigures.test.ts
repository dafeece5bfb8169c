// The Sections card's layout on the prompt, tokenized by the real Llama 3.1 tokenizer.json (as a model
// would): Examples holds its two examples and four turns, Output format is its own unit, and each unit's count
// equals the editor's CodeLens count from the chunked Llama 3 counter, an independent path to the same figure.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { computeSectionLenses } from '../../../src/cost/editorModels';
import { IncrementalCounter } from '../../../src/cost/incrementalCounter';
import { loadTokenCounter } from '../../../src/cost/tokenCounters';
import { ModelTokenizer } from '../../../src/engine/runtime/modelTokenizer';
import { coverSections } from '../../../src/shared/promptSections';
import { sectionLayout, shortName } from '../../../webview/model/sectionFigures';

const root = path.resolve(__dirname, '..', '..', '..');
const text = fs.readFileSync(path.join(root, 'test', 'fixtures', 'sections', 'issue-examples-output.prompt'), 'utf8');
let tokenizer: ModelTokenizer;

before(async () => {
  tokenizer = await ModelTokenizer.load(path.join(root, 'node_modules', '@lenml', 'tokenizer-llama3_1', 'models'));
});

test('the issue’s prompt: Examples with its nested turns, Output format its own section', () => {
  const { tokens } = tokenizer.tokenize(text);
  const layout = sectionLayout(text, tokens);
  assert.deepEqual(
    layout.units.map((u) => `${u.kind} ${u.label}`),
    ['heading Role', 'heading Rules', 'heading Examples', 'heading Output format'],
  );
  assert.deepEqual(
    layout.nested[2].map((n) => `${n.level} ${n.section.kind}`),
    ['1 example', '2 turn', '2 turn', '1 example', '2 turn', '2 turn'],
  );
  assert.deepEqual(layout.nested[3], []);
  assert.ok(layout.nested[2].every((n) => n.count > 0 && n.first >= layout.first[2]));
  // Every non-special token is counted in exactly one unit.
  const counted = [...layout.count].reduce((a, b) => a + b, 0);
  assert.equal(counted, tokens.filter((t) => !t.special).length);
});

test('the card’s counts equal the CodeLens counts for the same tokenizer', async () => {
  const { tokens } = tokenizer.tokenize(text);
  const layout = sectionLayout(text, tokens);
  const counter = await loadTokenCounter('llama3');
  const lenses = computeSectionLenses(new IncrementalCounter(counter).update(text), coverSections(text));
  assert.deepEqual(
    [...layout.count],
    lenses.map((l) => l.tokens),
  );
});

test('short names for the matrix', () => {
  assert.equal(shortName('Output format'), 'Output format');
  assert.equal(shortName('What you must not do'), 'What you must…');
  assert.equal(shortName('example 2: Can I get a refund?'), 'ex. 2');
  assert.ok(shortName('Supercalifragilisticexpialidocious').length <= 14);
});
