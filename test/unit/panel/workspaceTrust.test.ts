// Restricted mode: workspace-chosen model, endpoint, dtype and presets are ignored (user values kept) with
// one line saying so; a trusted workspace passes everything through; the package declares the same keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  applyWorkspaceTrust,
  RESTRICTED_KEYS,
  restrictedInSettingsFile,
  type ScopedValue,
} from '../../../src/panel/workspaceTrust';
import { readInspectorSettings } from '../../../src/panel/inspectorSettings';

function fakeConfig(scopes: Record<string, ScopedValue>): {
  get: (key: string) => unknown;
  inspect: (key: string) => ScopedValue | undefined;
} {
  // VS Code's merged value: folder over workspace over user.
  const get = (key: string): unknown => {
    const s = scopes[key];
    return s?.workspaceFolderValue ?? s?.workspaceValue ?? s?.globalValue;
  };
  return { get, inspect: (key) => scopes[key] };
}

test('an untrusted workspace cannot choose the model or the Hub endpoint; the user line names both', () => {
  const { get, inspect } = fakeConfig({
    model: { workspaceValue: './evil-model' },
    hubEndpoint: { workspaceFolderValue: 'http://attacker.invalid/' },
    maxTokens: { workspaceValue: 64 },
  });
  const trust = applyWorkspaceTrust(false, get, inspect);
  const settings = readInspectorSettings(trust.get);
  assert.equal(settings.model, '');
  assert.equal(settings.hubEndpoint, undefined);
  assert.equal(settings.maxTokens, 64, 'harmless workspace settings still apply');
  assert.deepEqual(trust.ignored, ['promptAttention.model', 'promptAttention.hubEndpoint']);
  assert.match(
    trust.notice ?? '',
    /not trusted.*promptAttention\.model, promptAttention\.hubEndpoint settings are ignored.*embedded model/,
  );
  assert.ok(!(trust.notice ?? '').includes('\n'));
});

test("in an untrusted workspace the user's own model setting is used and named", () => {
  const { get, inspect } = fakeConfig({ model: { globalValue: '/home/me/models/tiny', workspaceValue: '/tmp/other' } });
  const trust = applyWorkspaceTrust(false, get, inspect);
  assert.equal(readInspectorSettings(trust.get).model, '/home/me/models/tiny');
  assert.match(
    trust.notice ?? '',
    /promptAttention\.model setting is ignored; inspecting with the model from your user settings \(\/home\/me\/models\/tiny\)/,
  );
});

test('no notice when the workspace sets nothing restricted, or sets the same value as the user', () => {
  const same = fakeConfig({
    model: { globalValue: 'a/b', workspaceValue: 'a/b' },
    'cost.presets': { workspaceValue: [] },
  });
  const trust = applyWorkspaceTrust(false, same.get, same.inspect);
  assert.deepEqual(trust.ignored, []);
  assert.equal(trust.notice, undefined);
  assert.equal(trust.get('model'), 'a/b');
});

test('workspace presets and dtype are ignored when untrusted and kept when trusted', () => {
  const config = fakeConfig({
    'cost.presets': { workspaceValue: [{ id: 'x' }] },
    modelDtype: { workspaceValue: 'fp16' },
  });
  const untrusted = applyWorkspaceTrust(false, config.get, config.inspect);
  assert.equal(untrusted.get('cost.presets'), undefined);
  assert.equal(untrusted.get('modelDtype'), undefined);
  assert.deepEqual(untrusted.ignored, ['promptAttention.modelDtype', 'promptAttention.cost.presets']);
  const trusted = applyWorkspaceTrust(true, config.get, config.inspect);
  assert.deepEqual(trusted.get('cost.presets'), [{ id: 'x' }]);
  assert.equal(trusted.get('modelDtype'), 'fp16');
  assert.equal(trusted.notice, undefined);
});

test('package.json declares limited untrusted support with exactly the restricted keys, and virtual workspaces', () => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as {
    capabilities: {
      untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] };
      virtualWorkspaces: { supported: string; description: string };
    };
  };
  const untrusted = pkg.capabilities.untrustedWorkspaces;
  assert.equal(untrusted.supported, 'limited');
  assert.deepEqual(
    [...untrusted.restrictedConfigurations].sort(),
    RESTRICTED_KEYS.map((k) => `promptAttention.${k}`).sort(),
  );
  assert.equal(pkg.capabilities.virtualWorkspaces.supported, 'limited');
  assert.ok(pkg.capabilities.virtualWorkspaces.description.length > 20);
});

test('the workspace settings file is read as VS Code writes it (comments, trailing commas), folder or .code-workspace', () => {
  const folder =
    '{\n  // the repository\'s choice\n  "promptAttention.model": "./models/x", /* block */\n  "editor.tabSize": 2,\n  "promptAttention.hubEndpoint": "http://a//b",\n}\n';
  assert.deepEqual(restrictedInSettingsFile(folder), { model: './models/x', hubEndpoint: 'http://a//b' });
  assert.deepEqual(restrictedInSettingsFile('{"folders": [], "settings": {"promptAttention.modelDtype": "q4",}}'), {
    modelDtype: 'q4',
  });
  assert.deepEqual(restrictedInSettingsFile('not json'), {});
  assert.deepEqual(restrictedInSettingsFile('{"a": "// not a comment", "promptAttention.model": "m"}'), { model: 'm' });
});
