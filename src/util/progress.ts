/** A one-line progress bar on stderr with rate and ETA. Silent when stderr is not a TTY unless forced. */
export interface ProgressOptions {
  total: number;
  label?: string;
  unit?: string;
  /** Write even when stderr is not a terminal (one line per update, throttled). */
  force?: boolean;
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

export class ProgressBar {
  private done = 0;
  private readonly start = Date.now();
  private lastDraw = 0;
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  private readonly enabled: boolean;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.enabled = Boolean(this.stream.isTTY) || Boolean(opts.force);
  }

  /** Set the total once it is known (e.g. after listing the work). */
  setTotal(total: number): void {
    this.opts.total = total;
  }

  tick(n = 1): void {
    this.done += n;
    const now = Date.now();
    if (now - this.lastDraw < (this.stream.isTTY ? 100 : 2000) && this.done < this.opts.total) return;
    this.lastDraw = now;
    this.draw();
  }

  private draw(): void {
    if (!this.enabled) return;
    const { total, label = '', unit = 'it' } = this.opts;
    const elapsed = (Date.now() - this.start) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const eta = rate > 0 ? (total - this.done) / rate : Infinity;
    const frac = total > 0 ? Math.min(1, this.done / total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const line = `${label} [${bar}] ${this.done}/${total} ${rate.toFixed(2)} ${unit}/s ETA ${formatSeconds(eta)}`;
    if (this.stream.isTTY) this.stream.write(`\r${line}\x1b[K`);
    else this.stream.write(line + '\n');
  }

  finish(): void {
    this.draw();
    if (this.enabled && this.stream.isTTY) this.stream.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  const r = Math.round(s % 60);
  return `${m}:${String(r).padStart(2, '0')}`;
}
