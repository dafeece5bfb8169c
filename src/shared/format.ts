// Number formatting for every view: the status bar, tooltips, CodeLens, the panel and the command line (fixed
// en-US style, so output is the same on every machine and the same figure reads the same everywhere).

/** What toLocaleString('en-US') uses, built once: toLocaleString builds one per call (~1 µs; tens per keystroke). */
const COUNT_FORMAT = new Intl.NumberFormat('en-US');

export function formatCount(value: number): string {
  return COUNT_FORMAT.format(Math.round(value));
}

/** 0.1234 → "12.3 %"; small shares keep two decimals. */
export function formatShare(share: number): string {
  const percent = share * 100;
  const digits = percent !== 0 && Math.abs(percent) < 1 ? 2 : Math.abs(percent) < 100 ? 1 : 0;
  return `${percent.toFixed(digits)} %`;
}

/** 131072 → "128k", 8192 → "8k", 128000 → "128k", 4096 → "4k" (decimal k first: 128,000 is also 125 × 1024). */
export function formatWindow(tokens: number): string {
  if (tokens >= 1000 && tokens % 1000 === 0) return `${tokens / 1000}k`;
  if (tokens >= 1024 && tokens % 1024 === 0) return `${tokens / 1024}k`;
  return formatCount(tokens);
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(value < 10 ? 2 : 1)} ${BYTE_UNITS[unit]}`;
}

const SI = ['', 'k', 'M', 'G', 'T', 'P', 'E', 'Z'];

/** (3.2e12, 'FLOP') → "3.20 TFLOP"; used for FLOPs and score counts. */
export function formatSi(value: number, unitName = ''): string {
  let scaled = value;
  let unit = 0;
  while (Math.abs(scaled) >= 1000 && unit < SI.length - 1) {
    scaled /= 1000;
    unit++;
  }
  const text = unit === 0 ? String(Math.round(scaled)) : scaled.toFixed(scaled < 10 ? 2 : scaled < 100 ? 1 : 0);
  const suffix = `${SI[unit]}${unitName}`;
  return suffix === '' ? text : `${text} ${suffix}`;
}

export function formatPrice(dollars: number): string {
  if (dollars === 0) return '$0';
  if (dollars < 0.01) return `$${dollars.toPrecision(2)}`;
  return `$${dollars.toFixed(dollars < 1 ? 4 : 2)}`;
}

/** 8030261248 → "8.03B", 494032768 → "494M", 70553706496 → "70.6B". */
export function formatParameters(count: number): string {
  const [value, unit] =
    count >= 1e9
      ? [count / 1e9, 'B']
      : count >= 1e6
        ? [count / 1e6, 'M']
        : count >= 1e3
          ? [count / 1e3, 'k']
          : [count, ''];
  return `${unit === '' ? value : value.toPrecision(3).replace(/\.?0+$/, '')}${unit}`;
}
