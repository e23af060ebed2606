/**
 * Compacting a results folder: all part files become one part file (or a few, for large data) with
 * every sample exactly once, so tools that read the Parquet files directly (pandas, DuckDB) see the
 * same union as entropylens' reader. Writers of the same folder may still be running: new part
 * files are written before old ones are removed (a reader meanwhile sees duplicates, which it
 * skips), and only the files that were read are removed. One merge at a time, under a lock file.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { createFileExclusive, writeFileAtomic } from '../util/atomic.js';
import { MANIFEST_FILE, MERGE_LOCK, hostName, newWriterId, partFiles, partName, processAlive } from './layout.js';
import { encodePart, readRowKeys } from './parquet.js';
import { readResults } from './reader.js';
import type { ResultRow } from './schema.js';

/** Rows per merged part file (a 12-layer × 8-step profile is ~400 bytes: ~26 MB a file). */
const ROWS_PER_PART = 65_536;
/** A lock whose owner stopped updating it this long ago is taken over (the owner died on another host). */
const STALE_LOCK_MS = 10 * 60_000;

interface LockInfo {
  host: string;
  pid: number;
  at: string;
}

async function readLock(file: string): Promise<LockInfo | undefined> {
  try {
    const j = JSON.parse(await fs.promises.readFile(file, 'utf8')) as LockInfo;
    return typeof j.pid === 'number' && typeof j.host === 'string' ? j : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the folder's merge lock, waiting up to `waitMs` for another merge to finish. A lock left by
 * a process that died (on this host: its pid is gone; elsewhere: untouched for 10 minutes) is
 * taken over. Returns a release function, or undefined when the wait ran out.
 */
export async function acquireMergeLock(dir: string, waitMs: number): Promise<(() => Promise<void>) | undefined> {
  const file = join(dir, MERGE_LOCK);
  const me: LockInfo = { host: hostName(), pid: process.pid, at: new Date().toISOString() };
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await createFileExclusive(file, JSON.stringify(me))) {
      return async () => {
        const cur = await readLock(file);
        if (cur && cur.pid === me.pid && cur.host === me.host) await fs.promises.rm(file, { force: true });
      };
    }
    const holder = await readLock(file);
    const st = await fs.promises.stat(file).catch(() => undefined);
    const stale =
      !st ||
      (holder && holder.host === me.host && !processAlive(holder.pid)) ||
      Date.now() - st.mtimeMs > STALE_LOCK_MS;
    if (stale) {
      await fs.promises.rm(file, { force: true });
      continue;
    }
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface MergeResult {
  /** Part files before and after. */
  partsBefore: number;
  partsAfter: number;
  rows: number;
  samples: number;
  /** Rows dropped because their sample was already in another part file. */
  duplicateRows: number;
}

function groupBySample(rows: readonly ResultRow[]): ResultRow[][] {
  const out: ResultRow[][] = [];
  let cur: ResultRow[] = [];
  for (const r of rows) {
    if (cur.length > 0 && cur[0].sample_id !== r.sample_id) {
      out.push(cur);
      cur = [];
    }
    cur.push(r);
  }
  if (cur.length) out.push(cur);
  return out;
}

/**
 * Rewrites the folder's part files as one dataset with each sample once. Refuses a sharded run with
 * missing shards unless `partial`. `waitMs`: how long to wait for a merge already under way.
 */
export async function mergeDataset(dir: string, opts: { partial?: boolean; waitMs?: number } = {}): Promise<MergeResult> {
  const release = await acquireMergeLock(dir, opts.waitMs ?? 60_000);
  if (!release) throw new UserError(`another merge of ${dir} holds ${join(dir, MERGE_LOCK)}; wait for it to finish (or remove the file if no merge runs)`);
  try {
    // The token columns too (datasets written with top-k): a merge rewrites every column.
    const data = await readResults(dir, { partial: opts.partial, tokens: true });
    const before = data.manifest.shards.map((s) => s.file);
    const writer = `merged-${newWriterId(null)}`;
    const written: string[] = [];
    // Rows of one sample stay together in one part file.
    let batch: ResultRow[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const file = partName(writer, written.length);
      const bytes = encodePart(
        batch.map(({ tokens, source: _, ...r }) => ({
          ...r,
          sample_index: r.sample_index ?? undefined,
          ...(tokens ? { tokens: { generated_ids: tokens.generatedIds, topk_ids: tokens.topkIds, topk_probs: tokens.topkProbs } } : {}),
        })),
        data.manifest,
      );
      await writeFileAtomic(join(dir, file), bytes);
      written.push(file);
      batch = [];
    };
    // Token columns hold 2K numbers per value: fewer rows a file keeps the files near the same size.
    const perPart = Math.max(1, Math.floor(ROWS_PER_PART / (1 + 2 * (data.manifest.topK ?? 0))));
    for (const group of groupBySample(data.rows)) {
      if (batch.length + group.length > perPart) await flush();
      batch.push(...group);
    }
    await flush();
    for (const f of before) await fs.promises.rm(join(dir, f), { force: true });
    // Format 1 listed its part files in the manifest; those are gone now, and format 2 lists none.
    const m = JSON.parse(await fs.promises.readFile(join(dir, MANIFEST_FILE), 'utf8')) as Record<string, unknown>;
    if (Array.isArray(m.shards) && m.shards.length > 0) {
      await writeFileAtomic(join(dir, MANIFEST_FILE), JSON.stringify({ ...m, shards: [], version: 2 }, null, 2) + '\n');
    }
    return {
      partsBefore: before.length,
      partsAfter: written.length,
      rows: data.rows.length,
      samples: new Set(data.rows.map((r) => r.sample_id)).size,
      duplicateRows: data.duplicateRows,
    };
  } finally {
    await release();
  }
}

/** How many (sample_id, metric) rows appear in more than one part file (what a merge would remove). */
export async function duplicateRows(dir: string): Promise<number> {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const file of await partFiles(dir)) {
    let ids: string[];
    try {
      ids = await readRowKeys(join(dir, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err instanceof UserError && /not found/.test(err.message))) continue;
      throw err;
    }
    for (const id of new Set(ids)) (seen.has(id) ? twice : seen).add(id);
  }
  return twice.size;
}
