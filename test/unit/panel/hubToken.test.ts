// "Set Hugging Face Token": the answer goes to SecretStorage under one key, an empty answer removes it, a
// cancelled prompt changes nothing, and the message shown never contains the token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import { installFakeVscode } from '../../helpers/fakeVscode';

/** An in-memory SecretStorage. */
function fakeSecrets() {
  const values = new Map<string, string>();
  return {
    get: async (key: string) => values.get(key),
    store: async (key: string, value: string) => void values.set(key, value),
    delete: async (key: string) => void values.delete(key),
  };
}

test('the token is stored, kept on cancel, removed on an empty answer, and never shown', async () => {
  const answers: (string | undefined)[] = [' hf_abc123 ', undefined, ''];
  const shown: string[] = [];
  const uninstall = installFakeVscode({
    window: {
      showInputBox: async (options: { password?: boolean }) => {
        assert.equal(options.password, true);
        return answers.shift();
      },
      showInformationMessage: async (message: string) => void shown.push(message),
    },
  });
  try {
    const { HUB_TOKEN_SECRET, setHubToken, storedHubToken } = await import('../../../src/panel/hubToken');
    const fake = fakeSecrets();
    const secrets = fake as unknown as vscode.SecretStorage;
    await setHubToken(secrets);
    assert.equal(await fake.get(HUB_TOKEN_SECRET), 'hf_abc123');
    assert.equal(await storedHubToken(secrets), 'hf_abc123');
    await setHubToken(secrets);
    assert.equal(await fake.get(HUB_TOKEN_SECRET), 'hf_abc123', 'a cancelled prompt keeps the token');
    await setHubToken(secrets);
    assert.equal(await storedHubToken(secrets), undefined);
    assert.equal(shown.length, 2);
    assert.ok(shown.every((message) => !message.includes('hf_abc123')));
  } finally {
    uninstall();
  }
});
