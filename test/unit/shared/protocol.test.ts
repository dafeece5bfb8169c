// The protocol's guards: host messages by their kind list, and every webview → host message validated
// field by field against well-formed, random and hostile input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HOST_MESSAGE_KINDS,
  INSPECTION_EVENT_KINDS,
  isHostMessage,
  isInspectionEvent,
  type WebviewToHostMessage,
} from '../../../src/shared/protocol';
import { seededRandom } from '../../../src/shared/seededRandom';
import { parseWebviewMessage } from '../../../src/shared/webviewMessages';

const accepts = (value: unknown): boolean => typeof parseWebviewMessage(value) !== 'string';

test('well-formed webview messages pass through unchanged', () => {
  const good: WebviewToHostMessage[] = [
    { type: 'ready' },
    { type: 'cancel' },
    { type: 'rerun', requestId: 7 },
    { type: 'focus', index: 3, attended: [] },
    { type: 'focus', index: null, attended: [{ index: 0, weight: 0.5 }], reveal: true },
    { type: 'export', requestId: 1, kind: 'json' },
    { type: 'export', requestId: 2, kind: 'png', pngDataUrl: 'data:image/png;base64,AAAA' },
  ];
  for (const m of good) assert.deepEqual(parseWebviewMessage(m), m);
});

test('malformed and hostile webview messages are refused with a reason', () => {
  const bad: unknown[] = [
    null,
    undefined,
    'ready',
    42,
    [],
    ['ready'],
    {},
    { type: 'nope' },
    { type: 'READY' },
    { type: 'ready', extra: 1 },
    { type: 'rerun' },
    { type: 'rerun', requestId: -1 },
    { type: 'rerun', requestId: 1.5 },
    { type: 'rerun', requestId: '1' },
    { type: 'focus', index: 3 },
    { type: 'focus', index: -1, attended: [] },
    { type: 'focus', index: '3', attended: [] },
    { type: 'focus', index: Number.NaN, attended: [] },
    { type: 'focus', index: 3, attended: [{ index: 1 }] },
    { type: 'focus', index: 3, attended: [{ index: 1, weight: Number.POSITIVE_INFINITY }] },
    { type: 'focus', index: 3, attended: [{ index: 1, weight: -0.1 }] },
    { type: 'focus', index: 3, attended: [{ index: 1, weight: 0.1, evil: true }] },
    { type: 'focus', index: 3, attended: Array.from({ length: 5000 }, () => ({ index: 0, weight: 0 })) },
    { type: 'focus', index: 3, attended: [], reveal: 'yes' },
    { type: 'export', requestId: 1 },
    { type: 'export', requestId: 1, kind: 'exe' },
    { type: 'export', requestId: 1, kind: 'png', pngDataUrl: 5 },
    { type: 'export', kind: 'json' },
    JSON.parse('{"type":"ready","__proto__":{"polluted":true}}'),
    Object.assign(Object.create({ inherited: 1 }), { type: 'cancel', own: 2 }),
  ];
  for (const m of bad) {
    const outcome = parseWebviewMessage(m);
    assert.equal(typeof outcome, 'string', `refused: ${JSON.stringify(m)?.slice(0, 80)}`);
    assert.ok((outcome as string).length > 0 && !(outcome as string).includes('\n'));
  }
});

function anyValue(rnd: () => number, depth: number): unknown {
  const pick = Math.floor(rnd() * 9);
  switch (pick) {
    case 0:
      return null;
    case 1:
      return Math.floor(rnd() * 20) - 5;
    case 2:
      return rnd() < 0.5 ? Number.NaN : rnd() * 2 - 0.5;
    case 3:
      return ['ready', 'cancel', 'rerun', 'focus', 'export', 'png', 'json', 'html', '', '<script>'][
        Math.floor(rnd() * 10)
      ];
    case 4:
      return rnd() < 0.5;
    case 5:
      return undefined;
    case 6:
      return depth > 2 ? [] : Array.from({ length: Math.floor(rnd() * 3) }, () => anyValue(rnd, depth + 1));
    default:
      if (depth > 2) return {};
      return Object.fromEntries(
        Array.from({ length: Math.floor(rnd() * 5) }, () => [
          ['type', 'index', 'attended', 'reveal', 'requestId', 'kind', 'pngDataUrl', 'weight', 'x'][
            Math.floor(rnd() * 9)
          ],
          anyValue(rnd, depth + 1),
        ]),
      );
  }
}

test('random messages: whatever is accepted is a well-typed message, and nothing throws', () => {
  const rnd = seededRandom(20261202);
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const value = anyValue(rnd, 0);
    const outcome = parseWebviewMessage(value);
    if (typeof outcome === 'string') continue;
    accepted++;
    // What passes must pass again unchanged (it has only known fields of the right types).
    assert.deepEqual(parseWebviewMessage(structuredClone(outcome)), outcome);
    switch (outcome.type) {
      case 'focus':
        assert.ok(outcome.index === null || Number.isInteger(outcome.index));
        assert.ok(outcome.attended.every((a) => Number.isInteger(a.index) && Number.isFinite(a.weight)));
        break;
      case 'export':
        assert.ok(['png', 'json', 'html'].includes(outcome.kind) && Number.isInteger(outcome.requestId));
        break;
      case 'rerun':
        assert.ok(Number.isInteger(outcome.requestId));
        break;
      default:
        assert.deepEqual(Object.keys(outcome), ['type']);
    }
  }
  assert.ok(accepted > 0, 'the generator reaches valid messages too');
});

test('host message guards come from the kind lists', () => {
  for (const kind of INSPECTION_EVENT_KINDS) {
    assert.equal(isInspectionEvent({ kind, requestId: 1 }), true);
    assert.equal(isInspectionEvent({ kind }), false, 'an event carries its requestId');
  }
  for (const kind of HOST_MESSAGE_KINDS) assert.equal(isHostMessage({ kind }), true);
  assert.equal(isHostMessage({ kind: 'inspection-start' }), false);
  assert.equal(isHostMessage({ type: 'progress' }), false);
  assert.equal(isHostMessage(null), false);
  assert.equal(accepts({ type: 'ready' }), true);
});

test('the answer strip messages: generate within bounds, stop-generation and read-answer bare', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'generate', maxTokens: 64, temperature: 0.7, seed: 1 }), {
    type: 'generate',
    maxTokens: 64,
    temperature: 0.7,
    seed: 1,
  });
  assert.deepEqual(parseWebviewMessage({ type: 'stop-generation' }), { type: 'stop-generation' });
  assert.deepEqual(parseWebviewMessage({ type: 'read-answer' }), { type: 'read-answer' });
  // Answer from file…: the host asks for the file; the webview names none.
  assert.deepEqual(parseWebviewMessage({ type: 'command', command: 'answer-from-file' }), {
    type: 'command',
    command: 'answer-from-file',
  });
  for (const bad of [
    { type: 'command', command: 'answer-from-file', file: '/etc/passwd' },
    { type: 'generate', maxTokens: 0, temperature: 0, seed: 1 },
    { type: 'generate', maxTokens: 5000, temperature: 0, seed: 1 },
    { type: 'generate', maxTokens: 8, temperature: -1, seed: 1 },
    { type: 'generate', maxTokens: 8, temperature: Number.NaN, seed: 1 },
    { type: 'generate', maxTokens: 8, temperature: 0, seed: 1.5 },
    { type: 'stop-generation', now: true },
    { type: 'read-answer', text: 'injected' },
  ])
    assert.equal(typeof parseWebviewMessage(bad), 'string', JSON.stringify(bad));
});
