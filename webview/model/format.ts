// Short human-readable numbers for the panel.

export function formatCount(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e15) return `${(value / 1e15).toFixed(1)}P`;
  if (abs >= 1e12) return `${(value / 1e12).toFixed(1)}T`;
  if (abs >= 1e9) return `${(value / 1e9).toFixed(1)}G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  return String(Math.round(value));
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export function formatPercent(share: number): string {
  const p = share * 100;
  return p >= 10 ? `${p.toFixed(0)} %` : p >= 1 ? `${p.toFixed(1)} %` : `${p.toFixed(2)} %`;
}

/** A weight (0..1) as shown in tooltips: three significant digits. */
export function formatWeight(weight: number): string {
  return weight >= 0.001 ? weight.toFixed(3) : weight.toExponential(1);
}

/** Token text made visible for lists: whitespace shown as symbols, long text cut. */
export function visibleTokenText(text: string, max = 24): string {
  const shown = text.replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/ /g, '·');
  return shown.length > max ? `${shown.slice(0, max - 1)}…` : shown || '∅';
}
