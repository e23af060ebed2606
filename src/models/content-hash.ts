/**
 * What a checkpoint's files hold, as one fingerprint: the weight cache is keyed by it, so a copy with
 * edited weights (same names, sizes and times) or a file edited in place never gets another
 * checkpoint's cached weights. Each file's SHA-256 is computed once and remembered in
 * `<cache>/content-hashes.json` under its device, inode, size, modification and change times: a file
 * that still matches is not read again (a load stays a few stat calls), and any write to it changes
 * its change time (ctime), which no tool can set back. Files of the Hugging Face cache are blobs
 * named by their content's hash (SHA-256 for LFS weights, git's SHA-1 for small files): the name is
 * the hash, nothing is read.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomicSync } from '../util/atomic.js';

const RECORD = 'content-hashes.json';
/** Bytes read per hashing step. */
const CHUNK = 8 << 20;
/** Entries kept in the record (the most recent): it must not grow without bound. */
const MAX_ENTRIES = 10_000;

interface Entry {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  hash: string;
  usedAt: number;
}

/** The hash a Hugging Face cache blob is named by, when `real` is one. */
function blobName(real: string): string | undefined {
  const m = /[\\/]blobs[\\/]([0-9a-f]{40}|[0-9a-f]{64})$/.exec(real);
  return m?.[1];
}

function readRecord(file: string): Record<string, Entry> {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, Entry>) : {};
  } catch {
    return {};
  }
}

/** SHA-256 of a file's bytes, read in chunks; `onBytes` is told how many bytes each step read. */
function hashFile(file: string, onBytes?: (n: number) => void): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, CHUNK, null)) > 0; ) {
      h.update(buf.subarray(0, n));
      onBytes?.(n);
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * One fingerprint of the files' contents (their base names included, in the given order). Hashes
 * already known to `<cacheDir>/content-hashes.json` for an unchanged file are reused; new ones are
 * added to it. `onProgress(bytesDone, bytesToHash)` follows the files that must be read.
 */
export function contentFingerprint(files: string[], cacheDir: string, onProgress?: (done: number, total: number) => void): string {
  const recordFile = path.join(cacheDir, RECORD);
  const record = readRecord(recordFile);
  const now = Date.now();
  const plan = files.map((f) => {
    const real = fs.realpathSync(f);
    const st = fs.statSync(real);
    const named = blobName(real);
    const known = record[real];
    const same = known && known.dev === st.dev && known.ino === st.ino && known.size === st.size && known.mtimeMs === st.mtimeMs && known.ctimeMs === st.ctimeMs;
    return { f, real, st, named, hash: named ?? (same ? known.hash : undefined) };
  });
  const total = plan.filter((p) => p.hash === undefined).reduce((n, p) => n + p.st.size, 0);
  let done = 0;
  let changed = false;
  for (const p of plan) {
    if (p.hash === undefined) {
      p.hash = hashFile(p.real, (n) => onProgress?.((done += n), total));
      changed = true;
    }
    const { st } = p;
    if (!p.named) record[p.real] = { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, hash: p.hash, usedAt: now };
  }
  if (changed) {
    const kept = Object.entries(record)
      .sort((a, b) => (b[1].usedAt ?? 0) - (a[1].usedAt ?? 0))
      .slice(0, MAX_ENTRIES);
    try {
      fs.mkdirSync(cacheDir, { recursive: true });
      writeFileAtomicSync(recordFile, JSON.stringify(Object.fromEntries(kept)));
    } catch {
      // an unwritable cache folder: the hashes are computed again next time, nothing is wrong
    }
  }
  const h = createHash('sha256');
  for (const p of plan) h.update(`${path.basename(p.f)}\0${p.hash}\n`);
  return h.digest('hex').slice(0, 32);
}
