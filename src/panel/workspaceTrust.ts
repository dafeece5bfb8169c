// Restricted mode: in a workspace the user has not trusted, settings that make the extension load or fetch
// something (a model folder, a Hub endpoint, tokenizer presets, the model dtype) come only from the user's
// own settings, never from the workspace. VS Code already hides workspace values of the keys listed in
// package.json `restrictedConfigurations`, from `inspect()` too, so the workspace's own settings files are
// read here (JSON with comments) to say in one line what was ignored; and the rule is applied again here, so
// it holds even where the host does not apply it. Pure: no `vscode` import.

/** Keys under `promptAttention.` that a workspace may not choose while it is untrusted. */
export const RESTRICTED_KEYS = ['model', 'hubEndpoint', 'modelDtype', 'cost.presets'] as const;
export type RestrictedKey = (typeof RESTRICTED_KEYS)[number];

/** What `WorkspaceConfiguration.inspect(key)` reports, reduced to the scopes that matter here. */
export interface ScopedValue {
  readonly globalValue?: unknown;
  readonly workspaceValue?: unknown;
  readonly workspaceFolderValue?: unknown;
}

export interface TrustedSettings {
  /** Getter that answers restricted keys from user settings only when untrusted, else as `get` does. */
  readonly get: (key: string) => unknown;
  /** The workspace-chosen keys that were ignored (full names), in RESTRICTED_KEYS order. */
  readonly ignored: readonly string[];
  /** One user line when something was ignored, else undefined. */
  readonly notice: string | undefined;
}

function isRestricted(key: string): key is RestrictedKey {
  return (RESTRICTED_KEYS as readonly string[]).includes(key);
}

function hasValue(value: unknown): boolean {
  return (
    value !== undefined &&
    value !== null &&
    !(typeof value === 'string' && value.trim() === '') &&
    !(Array.isArray(value) && value.length === 0)
  );
}

/**
 * `get(key)` is the merged value of `promptAttention.<key>`, `inspect(key)` its scopes. In a trusted workspace
 * everything passes through. In an untrusted one a restricted key reads the user's (global) value, or
 * undefined (the default), and a workspace or folder value that differs from it is reported.
 */
export function applyWorkspaceTrust(
  trusted: boolean,
  get: (key: string) => unknown,
  inspect: (key: string) => ScopedValue | undefined,
): TrustedSettings {
  if (trusted) return { get, ignored: [], notice: undefined };
  const ignored: string[] = [];
  for (const key of RESTRICTED_KEYS) {
    const scopes = inspect(key);
    if (!scopes) continue;
    const chosen = [scopes.workspaceFolderValue, scopes.workspaceValue].find(hasValue);
    if (chosen !== undefined && JSON.stringify(chosen) !== JSON.stringify(scopes.globalValue))
      ignored.push(`promptAttention.${key}`);
  }
  const restrictedGet = (key: string): unknown => (isRestricted(key) ? inspect(key)?.globalValue : get(key));
  return { get: restrictedGet, ignored, notice: trustNotice(ignored, restrictedGet('model')) };
}

/** The one line: which workspace settings were ignored and which model is used instead. */
export function trustNotice(ignored: readonly string[], userModel: unknown): string | undefined {
  if (ignored.length === 0) return undefined;
  const model =
    typeof userModel === 'string' && userModel.trim()
      ? `the model from your user settings (${userModel.trim()})`
      : 'the embedded model';
  const names = ignored.join(', ');
  return `This workspace is not trusted, so its ${names} ${ignored.length === 1 ? 'setting is' : 'settings are'} ignored; inspecting with ${model}.`;
}

/** The `promptAttention.*` restricted values a workspace settings file (`.vscode/settings.json`, JSONC) sets. */
export function restrictedInSettingsFile(text: string): Partial<Record<RestrictedKey, unknown>> {
  let json: unknown;
  try {
    json = JSON.parse(stripJsonComments(text));
  } catch {
    return {};
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return {};
  const record = json as Record<string, unknown>;
  // A .code-workspace file keeps them under "settings".
  const settings =
    typeof record.settings === 'object' && record.settings !== null && !Array.isArray(record.settings)
      ? (record.settings as Record<string, unknown>)
      : record;
  const out: Partial<Record<RestrictedKey, unknown>> = {};
  for (const key of RESTRICTED_KEYS)
    if (`promptAttention.${key}` in settings) out[key] = settings[`promptAttention.${key}`];
  return out;
}

/** JSON with comments (// and block) and trailing commas, as VS Code writes settings, to plain JSON. */
export function stripJsonComments(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      out += text.slice(start, i + 1);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else out += c;
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}
