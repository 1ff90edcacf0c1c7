/**
 * Throughput and time left of a long read, from (time, bytes) samples: the rate over the last
 * few seconds (a merge's first seconds, spent on headers, would otherwise skew it for minutes).
 */
const WINDOW_MS = 5000;

export class Throughput {
  private readonly samples: { at: number; bytes: number }[] = [];

  constructor(private readonly now: () => number = () => performance.now()) {}

  add(bytes: number): void {
    const at = this.now();
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[0]!.at > WINDOW_MS) this.samples.shift();
  }

  /** Bytes per second over the window; undefined until two samples are apart in time. */
  get rate(): number | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at <= first.at) return undefined;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }

  /** Seconds until `total` bytes at the current rate. */
  secondsLeft(total: number): number | undefined {
    const rate = this.rate;
    const last = this.samples[this.samples.length - 1];
    if (rate === undefined || rate <= 0 || !last) return undefined;
    return Math.max(0, (total - last.bytes) / rate);
  }
}

/** `850 kB/s`, `85.0 MB/s`. */
export function formatRate(bytesPerSecond: number | undefined): string {
  if (bytesPerSecond === undefined) return "– MB/s";
  return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
}

/** `42 s`, `3 min 05 s`, `1 h 02 min`. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}
