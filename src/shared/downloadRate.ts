// Download speed and time left from the byte counts of successive progress events (the engine reports bytes;
// each view measures the rate over the last few seconds), and the one line the panel and the CLI show.

interface Sample {
  readonly at: number;
  readonly bytes: number;
}

export class DownloadRate {
  private samples: Sample[] = [];

  constructor(private readonly windowMs = 5000) {}

  /** Records `bytes` loaded at `at` (ms); a count that goes down starts a new measurement. */
  add(bytes: number, at = Date.now()): void {
    const last = this.samples.at(-1);
    if (last && bytes < last.bytes) this.samples = [];
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[1].at >= this.windowMs) this.samples.shift();
  }

  /** Bytes per second over the window, or null until a quarter second has been measured. */
  bytesPerSecond(): number | null {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at - first.at < 250) return null;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }

  /** Seconds until `total`, or null when the rate is unknown or zero. */
  secondsLeft(total: number): number | null {
    const rate = this.bytesPerSecond();
    const last = this.samples.at(-1);
    if (!rate || rate <= 0 || !last) return null;
    return Math.max(0, (total - last.bytes) / rate);
  }

  reset(): void {
    this.samples = [];
  }
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${bytes} B`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** "120.0 MB of 1.20 GB · 8.5 MB/s · 2 min 7 s left" (the parts that are known). */
export function downloadLine(loaded: number, total: number | undefined, rate: DownloadRate): string {
  const parts = [total ? `${formatBytes(loaded)} of ${formatBytes(total)}` : formatBytes(loaded)];
  const speed = rate.bytesPerSecond();
  if (speed !== null) parts.push(`${formatBytes(speed)}/s`);
  const left = total ? rate.secondsLeft(total) : null;
  if (left !== null) parts.push(`${formatDuration(left)} left`);
  return parts.join(' · ');
}
