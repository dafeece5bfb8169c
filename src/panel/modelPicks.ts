// The items of Prompt Attention: Choose Model…: one per discovered model, its name as the label, where it
// comes from as the description, and architecture, size, quantization and context as the detail; the model
// the user settings name now is marked. Pure (no `vscode`), so the wording is tested without VS Code.
import type { DiscoveredModel, DiscoveredSource } from '../worker/modelDiscovery';
import { GGUF_ARCHITECTURES } from '../worker/modelDiscovery';
import { formatBytes, formatCount } from '../shared/format';

export interface ModelPick {
  readonly label: string;
  readonly description: string;
  readonly detail: string;
  /** The value written to `promptAttention.model`. */
  readonly value: string;
  readonly current: boolean;
}

const SOURCE_NAMES: Readonly<Record<DiscoveredSource, string>> = {
  embedded: 'embedded proxy',
  ollama: 'Ollama',
  lmstudio: 'LM Studio',
  llamacpp: 'llama.cpp cache',
  'hf-cache': 'Hugging Face cache',
  hub: 'Hub, downloaded on first use',
};

/** "qwen3 · 0.98 GiB · Q4_K_M · context 40,960", leaving out what is unknown. */
export function modelFacts(m: DiscoveredModel): string {
  return [
    m.architecture,
    m.bytes === null ? null : formatBytes(m.bytes),
    m.quant,
    m.context === null ? null : `context ${formatCount(m.context)}`,
  ]
    .filter((f): f is string => f !== null && f !== '')
    .join(' · ');
}

/** A GGUF of an architecture the engine does not build would fail on the first inspection; say so up front. */
function isBuildable(m: DiscoveredModel): boolean {
  return (
    m.format !== 'gguf' || m.architecture === null || (GGUF_ARCHITECTURES as readonly string[]).includes(m.architecture)
  );
}

/** `current` is the user settings' `promptAttention.model` ('' or unset: the embedded model). */
export function modelPicks(models: readonly DiscoveredModel[], current: string): ModelPick[] {
  const chosen = current.trim();
  return models.map((m) => {
    const isCurrent = m.model === chosen;
    const facts = modelFacts(m) || m.model;
    return {
      label: isCurrent ? `$(check) ${m.name}` : m.name,
      description: `${SOURCE_NAMES[m.source]} · ${m.format.toUpperCase()}`,
      detail: isBuildable(m) ? facts : `${facts} · not supported: a "${m.architecture}" model`,
      value: m.model,
      current: isCurrent,
    };
  });
}

/** The line shown after a choice; `overridden` is the workspace's own value when it takes precedence. */
export function chosenMessage(name: string, overridden: string | undefined): string {
  return overridden === undefined
    ? `Prompt Attention now inspects with ${name} (user settings).`
    : `Saved ${name} to your user settings, but this workspace sets promptAttention.model to "${overridden}", which takes precedence here.`;
}
