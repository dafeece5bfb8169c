// The promptAttention.cost.* settings, read from a plain getter so this stays free of vscode and testable.
import { booleanDefault, numberDefault, stringDefault, stringListDefault } from '../shared/settingDefaults';
import {
  buildCatalog,
  DEFAULT_TARGET_ID,
  findPreset,
  KV_DTYPE_BYTES,
  type KvDtype,
  type PresetCatalog,
  type TargetPreset,
} from './presets';

export interface CostSettings {
  readonly target: TargetPreset;
  readonly catalog: PresetCatalog;
  readonly options: CostOptions;
  readonly languages: readonly string[];
  readonly filePatterns: readonly string[];
  readonly maxFileBytes: number;
  readonly codeLens: boolean;
  readonly debounceMs: number;
  /** One line per problem found in the settings (bad preset, unknown target, bad threshold). */
  readonly problems: readonly string[];
}

/** The defaults as package.json declares them (their one home). */
export const COST_SETTING_DEFAULTS = {
  target: stringDefault('cost.target'),
  languages: stringListDefault('cost.languages'),
  filePatterns: stringListDefault('cost.filePatterns'),
  warningThreshold: numberDefault('cost.warningThreshold'),
  errorThreshold: numberDefault('cost.errorThreshold'),
  kvCacheBudgetGiB: numberDefault('cost.kvCacheBudgetGiB'),
  kvDtype: stringDefault('cost.kvDtype'),
  maxFileSizeKB: numberDefault('cost.maxFileSizeKB'),
  codeLens: booleanDefault('cost.codeLens'),
  debounceMs: numberDefault('cost.debounceMs'),
} as const;

/** How the cost figures are judged: the warning and error shares of the window, the KV budget and dtype. */
export interface CostOptions {
  /** Share of the context window that draws a warning (default 0.8). */
  readonly warningShare: number;
  /** Share above which it is an error (default 1.0). */
  readonly errorShare: number;
  /** KV-cache memory budget in bytes; 0 turns the check off. */
  readonly kvBudgetBytes: number;
  /** Overrides the preset's KV dtype. */
  readonly kvDtype?: KvDtype;
}

export const DEFAULT_COST_OPTIONS: CostOptions = {
  warningShare: COST_SETTING_DEFAULTS.warningThreshold,
  errorShare: COST_SETTING_DEFAULTS.errorThreshold,
  kvBudgetBytes: COST_SETTING_DEFAULTS.kvCacheBudgetGiB * 1024 ** 3,
};

type Getter = (key: string) => unknown;

function stringList(value: unknown, fallback: readonly string[]): readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : fallback;
}

function numberIn(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? value : fallback;
}

/** `get(key)` returns the value of `promptAttention.cost.<key>` (undefined when unset). */
export function readCostSettings(get: Getter): CostSettings {
  const problems: string[] = [];
  const catalog = buildCatalog(get('presets'));
  problems.push(...catalog.errors);
  const targetId =
    typeof get('target') === 'string' && get('target') !== ''
      ? (get('target') as string)
      : COST_SETTING_DEFAULTS.target;
  let target = findPreset(catalog, targetId);
  if (!target) {
    problems.push(`promptAttention.cost.target: unknown target "${targetId}", using ${DEFAULT_TARGET_ID}`);
    target = findPreset(catalog, DEFAULT_TARGET_ID) ?? catalog.presets[0];
  }
  let warningShare = numberIn(get('warningThreshold'), COST_SETTING_DEFAULTS.warningThreshold, 0, 10);
  const errorShare = numberIn(get('errorThreshold'), COST_SETTING_DEFAULTS.errorThreshold, 0, 10);
  if (warningShare > errorShare) {
    problems.push(
      'promptAttention.cost.warningThreshold is above errorThreshold; warnings start at the error threshold',
    );
    warningShare = errorShare;
  }
  const kvDtypeSetting = get('kvDtype');
  const kvDtype =
    typeof kvDtypeSetting === 'string' && kvDtypeSetting in KV_DTYPE_BYTES ? (kvDtypeSetting as KvDtype) : undefined;
  const budgetGiB = numberIn(get('kvCacheBudgetGiB'), COST_SETTING_DEFAULTS.kvCacheBudgetGiB, 0, 1e6);
  return {
    target,
    catalog,
    options: {
      warningShare,
      errorShare,
      kvBudgetBytes: Math.round(budgetGiB * 1024 ** 3),
      ...(kvDtype ? { kvDtype } : {}),
    },
    languages: stringList(get('languages'), COST_SETTING_DEFAULTS.languages),
    filePatterns: stringList(get('filePatterns'), COST_SETTING_DEFAULTS.filePatterns),
    maxFileBytes: numberIn(get('maxFileSizeKB'), COST_SETTING_DEFAULTS.maxFileSizeKB, 1, 1e7) * 1024,
    codeLens: get('codeLens') !== false,
    debounceMs: numberIn(get('debounceMs'), COST_SETTING_DEFAULTS.debounceMs, 0, 5000),
    problems,
  };
}

/** A vscode DocumentFilter, as plain data. */
export interface PromptDocumentFilter {
  readonly scheme: string;
  readonly language?: string;
  readonly pattern?: string;
}

// Editors on real files and unsaved buffers; not the Output panel, git views or other virtual documents.
const PROMPT_SCHEMES = ['file', 'untitled', 'vscode-remote', 'vscode-vfs'];

/** The document selector for prompt-like files: each language id and glob, on editable schemes. */
export function promptDocumentSelector(
  settings: Pick<CostSettings, 'languages' | 'filePatterns'>,
): PromptDocumentFilter[] {
  return PROMPT_SCHEMES.flatMap((scheme) => [
    ...settings.languages.map((language) => ({ scheme, language })),
    ...settings.filePatterns.map((pattern) => ({ scheme, pattern })),
  ]);
}
