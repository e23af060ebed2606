/**
 * Progress on stderr with rate and ETA: a bar redrawn in place on a terminal; off a terminal (a batch
 * job's log) a plain line every `intervalSeconds` (30 by default, ENTROPYLENS_PROGRESS_SECONDS), so
 * a long job shows it is alive without flooding its log. `--quiet` turns both off.
 */

export interface ProgressMode {
  quiet: boolean;
  intervalSeconds: number;
}

const mode: ProgressMode = {
  quiet: process.env.ENTROPYLENS_QUIET === '1',
  intervalSeconds: Number(process.env.ENTROPYLENS_PROGRESS_SECONDS) > 0 ? Number(process.env.ENTROPYLENS_PROGRESS_SECONDS) : 30,
};

/** Process-wide progress settings (the CLI's --quiet). */
export function setProgressMode(m: Partial<ProgressMode>): void {
  Object.assign(mode, m);
}

export interface ProgressOptions {
  total: number;
  label?: string;
  unit?: string;
  /** Write on every update even off a terminal (tests). */
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
    this.enabled = !mode.quiet || Boolean(opts.force);
    this.lastDraw = this.start;
  }

  /** Set the total once it is known (e.g. after listing the work). */
  setTotal(total: number): void {
    this.opts.total = total;
  }

  tick(n = 1): void {
    this.done += n;
    const now = Date.now();
    const every = this.stream.isTTY || this.opts.force ? 100 : mode.intervalSeconds * 1000;
    if (now - this.lastDraw < every) return;
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
    if (total <= 0) {
      // The total is not known (a stream of prompts): the count and the rate.
      const line = `${label}: ${this.done} ${unit}, ${rate.toFixed(2)} ${unit}/s, elapsed ${formatSeconds(elapsed)}`;
      this.stream.write(this.stream.isTTY ? `\r${line}\x1b[K` : `${new Date().toISOString().slice(0, 19)}Z ${line}\n`);
    } else if (this.stream.isTTY) {
      this.stream.write(`\r${label} [${bar}] ${this.done}/${total} ${rate.toFixed(2)} ${unit}/s ETA ${formatSeconds(eta)}\x1b[K`);
    } else {
      const pct = total > 0 ? ` (${(100 * frac).toFixed(0)}%)` : '';
      this.stream.write(`${new Date().toISOString().slice(0, 19)}Z ${label}: ${this.done}/${total} ${unit}${pct}, ${rate.toFixed(2)} ${unit}/s, elapsed ${formatSeconds(elapsed)}, ETA ${formatSeconds(eta)}\n`);
    }
  }

  /** The final state: on a terminal the bar's last draw; off one, a closing line only for work that took long enough to report. */
  finish(): void {
    if (this.stream.isTTY || this.opts.force || Date.now() - this.start >= mode.intervalSeconds * 1000) this.draw();
    if (this.enabled && this.stream.isTTY) this.stream.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  const r = Math.round(s % 60);
  return `${m}:${String(r).padStart(2, '0')}`;
}
