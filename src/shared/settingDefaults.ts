// The settings' defaults have one home: package.json (contributes.configuration), which VS Code shows in the
// Settings editor. The code reads them from there instead of keeping its own copies. No `vscode` import.
import manifest from '../../package.json';

type Properties = Readonly<Record<string, { readonly default?: unknown }>>;
const properties: Properties = manifest.contributes.configuration.properties;

/** The default of `promptAttention.<key>` as package.json declares it; throws for a key it does not declare. */
function settingDefault(key: string): unknown {
  const entry = properties[`promptAttention.${key}`];
  if (!entry || !('default' in entry)) throw new Error(`package.json declares no default for promptAttention.${key}`);
  return entry.default;
}

export function numberDefault(key: string): number {
  const value = settingDefault(key);
  if (typeof value !== 'number') throw new Error(`promptAttention.${key}: the default is not a number`);
  return value;
}

export function stringDefault(key: string): string {
  const value = settingDefault(key);
  if (typeof value !== 'string') throw new Error(`promptAttention.${key}: the default is not a string`);
  return value;
}

export function booleanDefault(key: string): boolean {
  const value = settingDefault(key);
  if (typeof value !== 'boolean') throw new Error(`promptAttention.${key}: the default is not a boolean`);
  return value;
}

export function stringListDefault(key: string): readonly string[] {
  const value = settingDefault(key);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
    throw new Error(`promptAttention.${key}: the default is not a list of strings`);
  return value;
}
