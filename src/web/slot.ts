/**
 * One dataset the viewer serves, kept current: writers may still be adding part files (a run in
 * progress, the shards of a cluster job) or a merge may replace them, so the folder's part files
 * and writer records are looked at again (at most every few seconds, when a request comes) and the
 * dataset is read again when they changed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { shardFiles } from '../store/index.js';
import { WRITERS_DIR } from '../store/layout.js';
import type { CatalogEntry } from './catalog.js';
import { ViewerDataset } from './dataset.js';

/** How often a request may look for changes on disk (a listing of two folders), by default. */
export const CHECK_MS = 2000;

/** What changes when a writer adds a part file, finishes, or a merge replaces the files: their names and the records' times. */
async function signature(dir: string): Promise<string> {
  const parts = await shardFiles(dir);
  let records: string[] = [];
  const writers = path.join(dir, WRITERS_DIR);
  try {
    records = await Promise.all(
      (await fs.promises.readdir(writers))
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map(async (f) => `${f}@${(await fs.promises.stat(path.join(writers, f)).catch(() => undefined))?.mtimeMs ?? 0}`),
    );
  } catch {
    // no writers' records (older folders)
  }
  return [...parts, ...records].join('\n');
}

export class DatasetSlot {
  private current: Promise<ViewerDataset>;
  private loadedSignature: Promise<string | undefined>;
  private checkedAt = Date.now();
  private checking: Promise<void> | undefined;

  constructor(
    readonly entry: CatalogEntry,
    private readonly onLoadError?: (name: string, err: unknown) => void,
    private readonly checkMs = CHECK_MS,
  ) {
    this.loadedSignature = this.sign();
    this.current = this.load();
  }

  private async sign(): Promise<string | undefined> {
    const st = await fs.promises.stat(this.entry.path).catch(() => undefined);
    return st?.isDirectory() ? signature(this.entry.path).catch(() => undefined) : undefined; // a lone file does not change under us
  }

  private load(): Promise<ViewerDataset> {
    const p = ViewerDataset.load(this.entry);
    p.catch((err) => this.onLoadError?.(this.entry.name, err));
    return p;
  }

  /** The dataset as it is on disk now (read again first when its files changed since the last look). */
  async get(): Promise<ViewerDataset> {
    if (Date.now() - this.checkedAt >= this.checkMs) {
      this.checkedAt = Date.now();
      this.checking ??= this.refresh().finally(() => (this.checking = undefined));
    }
    if (this.checking) await this.checking;
    return this.current;
  }

  private async refresh(): Promise<void> {
    const [before, now] = await Promise.all([this.loadedSignature, this.sign()]);
    if (now === undefined || now === before) return;
    // The signature is taken before the read: a change during the read is seen at the next look.
    this.loadedSignature = Promise.resolve(now);
    const next = this.load();
    // A failed read (a merge removing files mid-read) keeps what was served, and tries again next time.
    await next.then(
      () => {
        this.current = next;
      },
      () => {
        this.loadedSignature = Promise.resolve(before);
      },
    );
  }
}
